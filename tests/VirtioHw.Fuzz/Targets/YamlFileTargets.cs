using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using VirtioHw.EpGen;
using VirtioHw.Flash;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// A YAML file format the kit reads: the repository's own files of that format mutated (their
/// keys, values and YAML punctuation re-inserted, lines cut, copied and spliced between files).
/// </summary>
public abstract partial class YamlFileTarget : FuzzTarget
{
    protected const string FileName = "fuzz.yaml";

    private static readonly string[] Punctuation = [":", ": ", "\n", "  ", "- ", "#", "'", "\"", "{", "}", "[", "]", "&a", "*a", "!!str", "---", "|", ">", "0x", "~", "null", "true", "-1"];

    private readonly byte[][] _seeds;
    private readonly byte[][] _tokens;

    protected YamlFileTarget(string resourcePrefix)
    {
        Assembly assembly = typeof(YamlFileTarget).Assembly;
        _seeds = [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(resourcePrefix + "/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using Stream stream = assembly.GetManifestResourceStream(n)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return copy.ToArray();
            })];
        IEnumerable<string> words = _seeds.SelectMany(s => Word().Matches(Encoding.UTF8.GetString(s)).Select(m => m.Value));
        _tokens = [.. words.Concat(Punctuation).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(w => Encoding.UTF8.GetBytes(w))];
    }

    /// <summary>The files mutation starts from (embedded at build time).</summary>
    public IReadOnlyList<byte[]> Seeds => _seeds;

    public override IEnumerable<byte[]> Starters(Random random, int count) => [.. _seeds, .. base.Starters(random, count)];

    public override byte[] Generate(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Mutator.Mutate(random, _seeds[random.Next(_seeds.Length)], _tokens, _seeds);
    }

    /// <summary>A refusal is one line that names the file.</summary>
    protected static void CheckRefusal(Exception e) =>
        FuzzFailure.Check(e.Message.StartsWith(FileName, StringComparison.Ordinal) && !e.Message.Contains('\n', StringComparison.Ordinal),
            $"the error does not name the file in one line: {e.Message}");

    [GeneratedRegex(@"[A-Za-z0-9_.-]+")]
    private static partial Regex Word();
}

/// <summary>
/// Board profiles (hostsw/boards/*.yaml) into the flasher: a profile whose values are in range,
/// or a <see cref="FlashException"/> naming the file in one line; never another exception.
/// </summary>
public sealed class BoardProfileTarget : YamlFileTarget
{
    public BoardProfileTarget()
        : base("board")
    {
    }

    public override string Name => "board";

    public override string Description => "board profiles into the flasher: a profile, or a FlashException naming the file";

    public override void Execute(byte[] input)
    {
        BoardProfile profile;
        try
        {
            profile = BoardProfiles.Parse(FileName, Encoding.UTF8.GetString(input));
        }
        catch (FlashException e)
        {
            CheckRefusal(e);
            return;
        }

        FuzzFailure.Check(profile.Name.Length > 0, "a profile without a name");
        FuzzFailure.Check(profile.ClockHz > 0, $"a profile with a clock of {profile.ClockHz} Hz");
        FuzzFailure.Check(profile.FlashOffset >= 0, $"a profile with flash offset {profile.FlashOffset}");
    }
}

/// <summary>
/// Endpoint descriptions (hw/endpoints/*.yaml) into the model and epgen: a description the
/// model builds and enumerates and epgen writes a package for, or an
/// <see cref="EndpointDescriptionException"/> naming the file in one line; never another exception.
/// </summary>
public sealed class EndpointDescriptionTarget : YamlFileTarget
{
    public EndpointDescriptionTarget()
        : base("endpoint")
    {
    }

    public override string Name => "endpoint";

    public override string Description => "endpoint descriptions into the model and epgen: an endpoint that enumerates, or one error naming the file";

    public override void Execute(byte[] input)
    {
        EndpointDescription description;
        try
        {
            description = EndpointDescriptions.Parse(FileName, Encoding.UTF8.GetString(input));
        }
        catch (EndpointDescriptionException e)
        {
            CheckRefusal(e);
            return;
        }

        string package = EndpointPackage.Write(description, FileName);
        FuzzFailure.Check(package.Contains(EndpointPackage.PackageName(description), StringComparison.Ordinal), "epgen wrote a package without its name");
        var address = new PciAddress(0, 1, 0);
        var platform = new ModelPlatform(new ModelPlatformSettings { PciEndpoints = [new(address, description)], RunFirmware = false });
        try
        {
            IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
            FuzzFailure.Check(functions.Any(f => f.Address == address), "an accepted description does not enumerate");
        }
        finally
        {
            platform.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
