using VirtioHw.Cosim.Tests.Lockstep;
using VirtioHw.Registers;

namespace VirtioHw.Cosim.Tests;

/// <summary>
/// Every generated register block: its C# model and its Verilated RTL, driven in lockstep by the
/// same random transactions (cosim/README.md says how to reproduce a failure). regc_selftest, which
/// has a register of every access type, runs longer and with more seeds.
/// </summary>
public sealed class LockstepTests
{
    private const string SelfTest = "regc_selftest";
    private const int Transactions = 3000;
    private const int SelfTestTransactions = 10000;

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (BlockInfo block in BlockCatalog.All)
        {
            int seeds = block.Name == SelfTest ? 8 : 3;
            for (int seed = 1; seed <= seeds; seed++)
            {
                yield return new TestCaseData(block.Name, seed, block.Name == SelfTest ? SelfTestTransactions : Transactions);
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Lockstep_ModelAndRtlAgree(string block, int seed, int transactions)
    {
        var (s, n) = LockstepRun.Settings(seed, transactions);
        LockstepSummary summary = LockstepRun.Run(BlockCatalog.Find(block)!, s, n);
        TestContext.Out.WriteLine($"{block}, seed {s}: {n} transactions agree: {summary}");
        Assert.That(summary.Reads + summary.Writes, Is.GreaterThan(n / 2), "most transactions are bus accesses");
    }

    [Test]
    public void EveryRegisterBlock_HasAnRtlTop_AndEveryRegisterTopABlock()
    {
        var blocks = BlockCatalog.All.Select(b => b.Name + "_reg_top").ToList();
        var tops = CosimTops.Names.Where(n => n.EndsWith("_reg_top", StringComparison.Ordinal)).ToList();
        Assert.That(tops, Is.EquivalentTo(blocks), "hw/rtl/gen and hw/registers/gen describe the same blocks");
    }
}
