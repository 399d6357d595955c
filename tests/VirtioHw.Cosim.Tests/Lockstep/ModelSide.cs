using System.Globalization;
using System.Reflection;
using System.Text;
using VirtioHw.Registers;
using FieldInfo = VirtioHw.Registers.FieldInfo;

namespace VirtioHw.Cosim.Tests.Lockstep;

/// <summary>
/// The generated C# model of a block, driven through its public typed hardware-side API (found by
/// the names regc gives it), so the lockstep also checks that API against the RTL's structs.
/// </summary>
internal sealed class ModelSide
{
    private static readonly Lazy<Dictionary<string, Type>> ModelTypes = new(FindModelTypes);

    private readonly BlockInfo _block;
    private readonly Func<int, ulong>?[][] _q;
    private readonly Action<int, ulong>?[][] _d;
    private readonly Action<int>?[][] _set;
    private readonly Action<int>?[][] _clr;

    public ModelSide(BlockInfo block, ExternalStore store)
    {
        _block = block;
        if (!ModelTypes.Value.TryGetValue(block.Name, out Type? type))
            throw new AssertionException($"no RegisterBlockModel subclass in VirtioHw.Registers has Info '{block.Name}'");
        Model = (RegisterBlockModel)Activator.CreateInstance(type)!;
        int n = block.Registers.Count;
        _q = new Func<int, ulong>?[n][];
        _d = new Action<int, ulong>?[n][];
        _set = new Action<int>?[n][];
        _clr = new Action<int>?[n][];
        for (int r = 0; r < n; r++)
        {
            RegisterInfo reg = block.Registers[r];
            int fields = reg.Fields.Count;
            (_q[r], _d[r], _set[r], _clr[r]) = (new Func<int, ulong>?[fields], new Action<int, ulong>?[fields], new Action<int>?[fields], new Action<int>?[fields]);
            if (reg.External)
            {
                BindExternal(type, r, store);
                continue;
            }
            for (int f = 0; f < fields; f++) BindField(type, r, f);
        }
    }

    public RegisterBlockModel Model { get; }

    public List<FieldPulse> Pulses { get; } = [];

    public List<ExternalAccess> Accesses { get; } = [];

    public uint Read(uint offset) => Model.Read(offset);

    public void Write(uint offset, uint data, byte strobe) => Model.Write(offset, data, strobe);

    public void Apply(HwAction a)
    {
        switch (a.Kind)
        {
            case HwActionKind.Load: _d[a.Register][a.Field]!(a.Element, a.Value); break;
            case HwActionKind.Set: _set[a.Register][a.Field]!(a.Element); break;
            default: _clr[a.Register][a.Field]!(a.Element); break;
        }
    }

    /// <summary><c>reg2hw.q</c> of a field hardware reads (a single-pulse field is 0 at rest).</summary>
    public ulong Q(int register, int field, int element) => _q[register][field]?.Invoke(element) ?? 0;

    private void BindField(Type type, int r, int f)
    {
        RegisterInfo reg = _block.Registers[r];
        FieldInfo field = reg.Fields[f];
        string name = reg.Fields.Count == 1 || field.Name == reg.Name ? Pascal(reg.Name) : Pascal(reg.Name) + Pascal(field.Name);
        bool hwReads = field.Hw is HwAccess.R or HwAccess.RW;
        bool hwWrites = field.Hw is HwAccess.W or HwAccess.RW;
        bool pulse = field.Has(FieldFlags.SinglePulse);
        string what = $"{reg.Name}.{field.Name}";
        if (reg.IsArray)
        {
            if (hwReads && !pulse)
            {
                MethodInfo get = Method(type, "Get" + name, what, typeof(int));
                _q[r][f] = e => ToUlong(get.Invoke(Model, [e]));
            }
            if (hwWrites)
            {
                MethodInfo set = Method(type, "Set" + name, what, typeof(int), null);
                _d[r][f] = (e, v) => set.Invoke(Model, [e, FromUlong(v, set.GetParameters()[1].ParameterType)]);
            }
            if (field.Has(FieldFlags.HwSet)) _set[r][f] = Invoker(Method(type, "HwSet" + name, what, typeof(int)), indexed: true);
            if (field.Has(FieldFlags.HwClear)) _clr[r][f] = Invoker(Method(type, "HwClear" + name, what, typeof(int)), indexed: true);
        }
        else
        {
            if (reg.Count != 1) throw new AssertionException($"{what}: {reg.Count} elements but not an array");
            PropertyInfo? prop = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
            if (hwReads && !pulse)
            {
                MethodInfo get = prop?.GetGetMethod() ?? throw Missing(type, name, what);
                _q[r][f] = _ => ToUlong(get.Invoke(Model, null));
            }
            if (hwWrites)
            {
                MethodInfo set = hwReads && !pulse
                    ? prop?.GetSetMethod() ?? throw Missing(type, name, what)
                    : Method(type, "Set" + name, what, [null]);
                _d[r][f] = (_, v) => set.Invoke(Model, [FromUlong(v, set.GetParameters()[0].ParameterType)]);
            }
            if (field.Has(FieldFlags.HwSet)) _set[r][f] = Invoker(Method(type, "HwSet" + name, what), indexed: false);
            if (field.Has(FieldFlags.HwClear)) _clr[r][f] = Invoker(Method(type, "HwClear" + name, what), indexed: false);
        }
        Subscribe(type, name + "Modified", field.Has(FieldFlags.SwMod), FieldEventKind.Modified, r, f);
        Subscribe(type, name + "Accessed", field.Has(FieldFlags.SwAcc), FieldEventKind.Accessed, r, f);
        Subscribe(type, name + "Pulsed", pulse, FieldEventKind.Pulsed, r, f);
    }

    private void Subscribe(Type type, string eventName, bool expected, FieldEventKind kind, int r, int f)
    {
        if (!expected) return;
        EventInfo ev = type.GetEvent(eventName, BindingFlags.Public | BindingFlags.Instance) ?? throw Missing(type, eventName, Names.Field(_block, r, f, 0));
        // Modified and Accessed carry the field value, which the lockstep compares through q instead.
        ev.AddEventHandler(Model, new EventHandler<FieldEvent>((_, e) =>
            Pulses.Add(new FieldPulse(kind, r, f, e.Element, kind == FieldEventKind.Pulsed ? e.Value : 0))));
    }

    private void BindExternal(Type type, int r, ExternalStore store)
    {
        string name = Pascal(_block.Registers[r].Name) + "Handler";
        PropertyInfo handler = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance) ?? throw Missing(type, name, _block.Registers[r].Name);
        handler.SetValue(Model, new ExternalRegister(
            (element, mask) =>
            {
                Accesses.Add(new ExternalAccess(false, r, element, 0, mask));
                return store.Read(r, element);
            },
            (element, value, mask) =>
            {
                Accesses.Add(new ExternalAccess(true, r, element, value, mask));
                store.Write(r, element, value, mask);
            }));
    }

    private Action<int> Invoker(MethodInfo m, bool indexed) =>
        indexed ? e => m.Invoke(Model, [e]) : _ => m.Invoke(Model, null);

    private static MethodInfo Method(Type type, string name, string what, params Type?[] parameters)
    {
        foreach (MethodInfo m in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.Name == name))
        {
            ParameterInfo[] ps = m.GetParameters();
            if (ps.Length == parameters.Length && ps.Zip(parameters).All(x => x.Second is null || x.First.ParameterType == x.Second)) return m;
        }
        throw Missing(type, name, what);
    }

    private static AssertionException Missing(Type type, string member, string what) =>
        new($"{type.Name} has no public {member} for {what}, which the block description says hardware can use");

    private static ulong ToUlong(object? value) => value switch
    {
        bool b => b ? 1UL : 0UL,
        null => 0,
        _ => Convert.ToUInt64(value, CultureInfo.InvariantCulture),
    };

    private static object FromUlong(ulong value, Type type) =>
        type == typeof(bool) ? value != 0 : Convert.ChangeType(value, type, CultureInfo.InvariantCulture);

    /// <summary>How regc names C# members (hw/regc/Generators/Naming.cs): <c>events_b</c> is <c>EventsB</c>, <c>FEATURES_OK</c> <c>FeaturesOk</c>.</summary>
    private static string Pascal(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (string part in name.Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            sb.Append(char.ToUpperInvariant(part[0]));
            sb.Append(part.Length > 1 && part.All(c => !char.IsLower(c)) ? part[1..].ToLowerInvariant() : part[1..]);
        }
        return sb.ToString();
    }

    private static Dictionary<string, Type> FindModelTypes() =>
        typeof(RegisterBlockModel).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false } && t.IsSubclassOf(typeof(RegisterBlockModel)) && t.GetConstructor(Type.EmptyTypes) is not null)
            .ToDictionary(t => ((RegisterBlockModel)Activator.CreateInstance(t)!).Info.Name, StringComparer.Ordinal);
}
