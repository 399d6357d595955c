using VirtioHw.Regc;

return RegcCommand.Run(args, Console.Out, Console.Error);
