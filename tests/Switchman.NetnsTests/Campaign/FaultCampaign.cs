using System.Diagnostics;
using System.Globalization;
using System.Text;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Switchman.Testing.Netns;
using Xunit.Abstractions;

namespace Switchman.NetnsTests.Campaign;

/// <summary>How long a campaign runs and from which seed; from SWITCHMAN_CAMPAIGN_SECONDS and SWITCHMAN_CAMPAIGN_SEED when set.</summary>
public sealed record CampaignSettings(TimeSpan Duration, int Seed)
{
    public static CampaignSettings FromEnvironment(TimeSpan defaultDuration, int defaultSeed)
    {
        var seconds = Environment.GetEnvironmentVariable("SWITCHMAN_CAMPAIGN_SECONDS");
        var seed = Environment.GetEnvironmentVariable("SWITCHMAN_CAMPAIGN_SEED");
        return new CampaignSettings(
            seconds is { Length: > 0 } ? TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture)) : defaultDuration,
            seed is { Length: > 0 } ? int.Parse(seed, CultureInfo.InvariantCulture) : defaultSeed);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"seed {Seed}, {Duration.TotalSeconds:0} s (again: SWITCHMAN_CAMPAIGN_SEED={Seed} SWITCHMAN_CAMPAIGN_SECONDS={Duration.TotalSeconds:0})");
}

/// <summary>
/// A seeded fault campaign (issue 14): three nodes in network namespaces with a VIP (api), a pool of three (api1–3)
/// and a singleton service that follows api; the campaign's client writes numbered changes through random nodes while
/// the <see cref="Nemesis"/> kills and restarts, partitions, bridges, freezes, delays and drops, one fault at a time.
/// All along: every address change of every host in the kernel's order (<see cref="AddressTimeline"/>), the
/// singleton's processes every ~5 ms (<see cref="SingletonSampler"/>), every node's status twice a second. Then
/// everything is healed, the nodes must agree, and <see cref="CampaignChecker"/> judges the whole history.
/// <para>
/// Reproducible from its seed as far as choices go: which fault, on which target, for how long, through which node each
/// write goes and what it is. Not the timing: the same seed on a busier machine meets other interleavings.
/// </para>
/// </summary>
public sealed class FaultCampaign
{
    private const int Writers = 2;

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    private static readonly VipAddress[] Pool = [NetnsCluster.PoolVip(1), NetnsCluster.PoolVip(2), NetnsCluster.PoolVip(3)];

    /// <summary>Runs one campaign and returns its verdict and report (already written to <paramref name="output"/>, seed first).</summary>
    public static async Task<(CampaignVerdict Verdict, string Report)> RunAsync(CampaignSettings settings, ITestOutputHelper output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"fault campaign: {settings}");
        var marker = "swcamp" + settings.Seed.ToString(CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..8];
        string[] services =
        [
            "services:",
            "  solo:",
            $"    command: [/bin/bash, -c, \"exec -a {marker} sleep 3600\"]",
            "    placement: singleton",
            "    with_vip: api",
            "    stop_timeout: 2s",
        ];
        string[] vips =
        [
            $"  - {{ name: api, address: {NetnsCluster.Vip}, interface: eth0 }}",
            .. Pool.Select((vip, i) => $"  - {{ name: api{i + 1}, address: {vip}, interface: eth0, pool: pool }}"),
        ];
        await using var cluster = await NetnsCluster.StartAsync(output, vips, nodeLines: new[] { "n1", "n2", "n3" }.ToDictionary(id => id, _ => services), raftDebug: false);
        var all = Pool.Append(NetnsCluster.Vip).ToList();
        await SettledAsync(cluster, marker, null, all);

        using var timeline = await AddressTimeline.StartAsync(cluster.Lab, all.Select(v => v.Address));
        using var singleton = SingletonSampler.Start(marker, cluster.Nodes.ToDictionary(n => n.Id, n => cluster.Process(n).Pid));
        var clock = Stopwatch.StartNew();
        // The nodes log wall-clock time: this is what 0 s of the campaign's clock (faults, writes, samples) was.
        output.WriteLine($"campaign clock started at {TimeProvider.System.GetUtcNow():O}; address timeline clock at {timeline.StartedAt:O}");
        var client = new CampaignClient(cluster, clock, settings.Seed);
        var status = new StatusSampler(cluster, clock);
        var nemesis = new Nemesis(cluster, clock, settings.Seed, () => timeline.Holders(NetnsCluster.Vip.Address) is [var holder] ? holder : null, () => status.Leader);
        var until = settings.Duration;
        try
        {
            await Task.WhenAll(client.RunAsync(Writers, until), status.RunAsync(until), nemesis.RunAsync(until, line => output.WriteLine("fault " + line)));
        }
        finally
        {
            await nemesis.HealAllAsync();
        }
        var ran = clock.Elapsed;

        // Healed: the nodes must come to agree, and each VIP and the singleton be in one place, which the timeline must also say.
        var holderAnomalies = new List<Anomaly>();
        try
        {
            await cluster.WaitForAgreementAsync(Settle);
        }
        catch (TimeoutException e)
        {
            // Recorded, not thrown: what each node runs is read below all the same, for the checker to name the difference.
            holderAnomalies.Add(new Anomaly("nodes did not come to agree once healed", e.Message.Split("\n---", 2)[0]));
        }
        try
        {
            await SettledAsync(cluster, marker, singleton, all);
            await Await.UntilAsync(async () => (await timeline.VerifyAsync()).Count == 0, TimeSpan.FromSeconds(10), "the address timeline to match every host's addresses");
        }
        catch (TimeoutException e)
        {
            holderAnomalies.Add(new Anomaly("did not settle", e.Message + "\n" + string.Join("\n", await timeline.VerifyAsync())));
        }
        var sequences = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var node in cluster.Nodes)
        {
            var names = await cluster.ServerNamesAsync(node, TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"{node.Id} did not answer GET /api/v1/config");
            sequences[node.Id] = [.. names.Where(IsCampaignName)];
        }
        timeline.Dispose();
        singleton.Dispose();

        holderAnomalies.AddRange(timeline.Overlaps.Select(o => new Anomaly("VIP on two nodes at once", o.ToString())));
        if (timeline.LostNotifications > 0 || timeline.ReaderError is not null)
        {
            holderAnomalies.Add(new Anomaly("VIP timeline incomplete", $"{timeline.LostNotifications} notifications lost; reader: {timeline.ReaderError ?? "ran to the end"}"));
        }
        holderAnomalies.AddRange(singleton.Violations.Select(v => new Anomaly("singleton on two hosts at once", v.ToString())));

        var writes = client.Writes;
        var verdict = CampaignChecker.Check(writes, sequences, status.Samples, holderAnomalies);
        var report = Report(settings, ran, verdict, nemesis.Faults, timeline, singleton);
        output.WriteLine(report);
        output.WriteLine(timeline.Describe(30));
        output.WriteLine(singleton.Describe());
        if (Environment.GetEnvironmentVariable("SWITCHMAN_CAMPAIGN_REPORT") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync(path, report + "\n\nfaults:\n" + string.Join("\n", nemesis.Faults) + "\n");
        }
        if (Environment.GetEnvironmentVariable("SWITCHMAN_CAMPAIGN_LOGS") is { Length: > 0 } directory)
        {
            // Everything, for reading an anomaly afterwards: each node's output (all its processes), the writes, the
            // samples, the faults and the address timeline.
            Directory.CreateDirectory(directory);
            foreach (var node in cluster.Nodes)
            {
                await File.WriteAllLinesAsync(Path.Combine(directory, $"{node.Id}.log"), cluster.AllOutput(node));
            }
            await File.WriteAllLinesAsync(Path.Combine(directory, "writes.txt"), writes.Select(w => w.ToString()));
            await File.WriteAllLinesAsync(Path.Combine(directory, "samples.txt"), status.Samples.Select(s => s.ToString()));
            await File.WriteAllLinesAsync(Path.Combine(directory, "faults.txt"), nemesis.Faults.Select(f => f.ToString()));
            await File.WriteAllTextAsync(Path.Combine(directory, "timeline.txt"), timeline.Describe(int.MaxValue));
            await File.WriteAllTextAsync(Path.Combine(directory, "report.txt"), report + "\n");
        }
        return (verdict, report);
    }

    /// <summary>A name the campaign's client sent (c… or x…), not one of the two servers the configuration starts with.</summary>
    private static bool IsCampaignName(string name) => name.Length == 7 && name[0] is 'c' or 'x' && name[1..].All(char.IsAsciiDigit);

    /// <summary>Waits until every VIP is on exactly one node and the singleton runs on exactly one (the VIP api's holder).</summary>
    private static Task SettledAsync(NetnsCluster cluster, string marker, SingletonSampler? sampler, IReadOnlyList<VipAddress> vips) =>
        Await.UntilAsync(async () =>
        {
            string? apiHolder = null;
            foreach (var vip in vips)
            {
                if (await VipHolders.OfAsync(cluster, vip) is not [var holder])
                {
                    return false;
                }
                apiHolder = vip == NetnsCluster.Vip ? holder : apiHolder;
            }
            var sightings = sampler?.ScanNow() ?? ScanOnce(marker, cluster);
            return sightings.Count == 1 && sightings[0].Host == apiHolder;
        }, Settle, "every VIP on one node and the singleton running on the holder of api only");

    private static IReadOnlyList<SingletonSampler.Sighting> ScanOnce(string marker, NetnsCluster cluster)
    {
        using var sampler = SingletonSampler.Start(marker, cluster.Nodes.ToDictionary(n => n.Id, n => cluster.Process(n).Pid));
        return sampler.ScanNow();
    }

    private static string Report(CampaignSettings settings, TimeSpan ran, CampaignVerdict verdict, IReadOnlyList<FaultRecord> faults, AddressTimeline timeline, SingletonSampler singleton)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"fault campaign {settings}: ran {ran.TotalSeconds:0} s");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"writes: {verdict.Writes} ({verdict.Acknowledged} acknowledged, {verdict.Refused} refused, {verdict.Unknown} unknown of which {verdict.UnknownApplied} were applied); {verdict.ChangesApplied} changes on every node");
        text.AppendLine(CultureInfo.InvariantCulture, $"faults: {faults.Count} ({string.Join(", ", faults.GroupBy(f => f.Kind).OrderBy(g => Array.IndexOf(Nemesis.Kinds, g.Key)).Select(g => $"{g.Key} {g.Count()}"))})");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"observed: {verdict.Samples} status samples ({verdict.RestartsBehind} restarted processes first answered below their predecessor), {timeline.Changes().Count} VIP address changes, most holders of one VIP at once {timeline.MostAtOnce()}; singleton: most hosts at once {singleton.MostHostsAtOnce}, {singleton.Handovers.Count} moves caught mid-scan; {singleton.Statistics}");
        text.AppendLine(CultureInfo.InvariantCulture, $"anomalies: {verdict.Anomalies.Count}");
        foreach (var anomaly in verdict.Anomalies.Take(50))
        {
            text.AppendLine("  " + anomaly);
        }
        return text.ToString().TrimEnd();
    }
}
