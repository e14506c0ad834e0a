using System.Diagnostics;
using System.Globalization;

namespace Switchman.NetnsTests.Campaign;

/// <summary>
/// Injects one fault at a time, each healed before the next and each bounded in time, chosen by a seeded random
/// generator: its kind, its target (any node, the node holding the VIP, or the leader) and how long it lasts.
/// <list type="bullet">
/// <item><b>kill</b>: SIGKILL of the node's switchman alone (its guards live on, as after a crash), restarted on its
/// data directory 0.5–4 s later.</item>
/// <item><b>partition</b>: the node cut off from the two others (a minority of one, the majority of two), 1–6 s.</item>
/// <item><b>bridge</b>: the two other nodes cut from each other while both still reach the target (A–B and B–C
/// connected, A–C not), 1–6 s.</item>
/// <item><b>freeze</b>: SIGSTOP of the node's switchman, SIGCONT 0.5–4 s later (a paused VM, a long stall).</item>
/// <item><b>delay</b>: everything the node sends (or, one time in three, every node) delayed 20–200 ms with up to
/// half of that as jitter (tc netem), 2–8 s. On a kernel without netem (the Firecracker kernel these tests run on has
/// none) the node's link to the other nodes is slowed instead, to 128–2048 kbit/s (HTB: what a burst sends waits behind
/// the one before it, and the queue overflows).</item>
/// <item><b>loss</b>: 5–40 % of what the node (or every node) sends dropped at random (a BPF classifier, no netem needed), 2–8 s.</item>
/// <item><b>power-off</b>: the node's switch port down (it answers nothing, its switchman runs on alone), 1–5 s.</item>
/// </list>
/// Between two faults, 1–4 s with none. What is in force is remembered so that <see cref="HealAllAsync"/> can undo it
/// whatever happened.
/// </summary>
internal sealed class Nemesis(NetnsCluster cluster, Stopwatch clock, int seed, Func<string?> vipHolder, Func<string?> leader)
{
    public static readonly string[] Kinds = ["kill", "partition", "bridge", "freeze", "delay", "loss", "power-off"];

    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();
    private readonly List<FaultRecord> _faults = [];
    private readonly HashSet<(string, string)> _cuts = [];
    private readonly HashSet<string> _frozen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _impaired = new(StringComparer.Ordinal);
    private readonly HashSet<string> _poweredOff = new(StringComparer.Ordinal);
    private readonly HashSet<string> _down = new(StringComparer.Ordinal);

    public IReadOnlyList<FaultRecord> Faults
    {
        get
        {
            lock (_gate)
            {
                return [.. _faults];
            }
        }
    }

    /// <summary>Injects faults until <paramref name="until"/> on the campaign's clock; the last one is healed before it returns.</summary>
    public async Task RunAsync(TimeSpan until, Action<string> log)
    {
        while (clock.Elapsed < until)
        {
            await Task.Delay(Seconds(1, 4));
            if (clock.Elapsed >= until)
            {
                break;
            }
            var kind = Kinds[_random.Next(Kinds.Length)];
            var target = PickTarget();
            var began = clock.Elapsed;
            var detail = await InjectAsync(kind, target);
            var healed = clock.Elapsed;
            var fault = new FaultRecord(kind, target.Id, began, healed, detail);
            lock (_gate)
            {
                _faults.Add(fault);
            }
            log(fault.ToString());
        }
    }

    /// <summary>Undoes whatever is in force: thaws, reconnects, repairs, powers on, starts what is down.</summary>
    public async Task HealAllAsync()
    {
        foreach (var node in cluster.Nodes)
        {
            if (_frozen.Remove(node.Id))
            {
                await cluster.ThawAsync(node);
            }
            if (_impaired.Remove(node.Id))
            {
                await cluster.Lab.RepairAsync(node.Host);
            }
            if (_poweredOff.Remove(node.Id))
            {
                await cluster.PowerOnAsync(node);
            }
        }
        foreach (var (a, b) in _cuts.ToList())
        {
            await cluster.Lab.HealAsync(cluster.Node(a).Host, cluster.Node(b).Host);
            _cuts.Remove((a, b));
        }
        foreach (var node in cluster.Nodes.Where(n => _down.Contains(n.Id) || !cluster.IsRunning(n)))
        {
            await cluster.StartAsync(node);
            _down.Remove(node.Id);
        }
    }

    private NetnsNode PickTarget()
    {
        var choice = _random.Next(3);
        var named = choice switch
        {
            1 => vipHolder(),
            2 => leader(),
            _ => null,
        };
        // Drawn even when a holder or leader is known, so that the generator's sequence does not depend on what was seen.
        var any = cluster.Nodes[_random.Next(cluster.Nodes.Count)];
        return named is not null ? cluster.Node(named) : any;
    }

    private async Task<string> InjectAsync(string kind, NetnsNode target)
    {
        var others = cluster.Nodes.Where(n => n != target).ToList();
        switch (kind)
        {
            case "kill":
            {
                var downFor = Seconds(0.5, 4);
                await HoldAsync(downFor, _down, target, () => cluster.CrashAsync(target), () => cluster.StartAsync(target));
                return $"down {Ms(downFor)} before the restart";
            }
            case "partition":
            {
                var lasting = Seconds(1, 6);
                foreach (var other in others)
                {
                    await CutAsync(target, other);
                }
                await Task.Delay(lasting);
                foreach (var other in others)
                {
                    await HealAsync(target, other);
                }
                return $"{target.Id} | {string.Join(" ", others.Select(o => o.Id))} for {Ms(lasting)}";
            }
            case "bridge":
            {
                var lasting = Seconds(1, 6);
                await CutAsync(others[0], others[1]);
                await Task.Delay(lasting);
                await HealAsync(others[0], others[1]);
                return $"{others[0].Id}–{target.Id}–{others[1].Id}, {others[0].Id} and {others[1].Id} cut apart for {Ms(lasting)}";
            }
            case "freeze":
            {
                var lasting = Seconds(0.5, 4);
                await HoldAsync(lasting, _frozen, target, () => cluster.FreezeAsync(target), () => cluster.ThawAsync(target));
                return $"stopped for {Ms(lasting)}";
            }
            case "delay" or "loss":
            {
                // Every parameter is drawn whatever this kernel can do, so the generator's sequence is the same everywhere.
                var lasting = Seconds(2, 8);
                var all = _random.Next(3) == 0;
                var delay = TimeSpan.FromMilliseconds(_random.Next(20, 201));
                var jitter = TimeSpan.FromMilliseconds(_random.Next(0, ((int)delay.TotalMilliseconds / 2) + 1));
                var rate = _random.Next(128, 2049);
                var loss = _random.Next(5, 41);
                var netem = kind == "delay" && await cluster.Lab.HasNetemAsync();
                var victims = all ? cluster.Nodes : [target];
                foreach (var victim in victims)
                {
                    _impaired.Add(victim.Id);
                    if (kind == "loss")
                    {
                        await cluster.Lab.DropAsync(victim.Host, loss);
                    }
                    else if (netem)
                    {
                        await cluster.Lab.DelayAsync(victim.Host, delay, jitter);
                    }
                    else
                    {
                        await cluster.Lab.ThrottleAsync(victim.Host, rate, cluster.Nodes.Where(n => n != victim).Select(n => n.Host));
                    }
                }
                await Task.Delay(lasting);
                foreach (var victim in victims)
                {
                    await cluster.Lab.RepairAsync(victim.Host);
                    _impaired.Remove(victim.Id);
                }
                var what = kind == "loss" ? $"{loss} % of what it sends dropped"
                    : netem ? $"delay {Ms(delay)} ± {Ms(jitter)} (netem)"
                    : $"link to the other nodes slowed to {rate} kbit/s (no netem in this kernel)";
                return $"{what} on {(all ? "every node" : target.Id)} for {Ms(lasting)}";
            }
            case "power-off":
            {
                var lasting = Seconds(1, 5);
                await HoldAsync(lasting, _poweredOff, target, () => cluster.PowerOffAsync(target), () => cluster.PowerOnAsync(target));
                return $"off for {Ms(lasting)}";
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such fault");
        }
    }

    /// <summary>Injects a fault on <paramref name="target"/>, remembered in <paramref name="inForce"/> (for <see cref="HealAllAsync"/>) while it lasts.</summary>
    private static async Task HoldAsync(TimeSpan lasting, HashSet<string> inForce, NetnsNode target, Func<Task> inject, Func<Task> heal)
    {
        inForce.Add(target.Id);
        await inject();
        await Task.Delay(lasting);
        await heal();
        inForce.Remove(target.Id);
    }

    private async Task CutAsync(NetnsNode a, NetnsNode b)
    {
        await cluster.Lab.CutAsync(a.Host, b.Host);
        _cuts.Add((a.Id, b.Id));
    }

    private async Task HealAsync(NetnsNode a, NetnsNode b)
    {
        await cluster.Lab.HealAsync(a.Host, b.Host);
        _cuts.Remove((a.Id, b.Id));
    }

    private TimeSpan Seconds(double min, double max) => TimeSpan.FromSeconds(min + (_random.NextDouble() * (max - min)));

    private static string Ms(TimeSpan span) => span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";
}
