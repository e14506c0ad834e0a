using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Switchman.NetnsTests;

/// <summary>
/// Where a singleton service's processes live, as the kernel has it: every ~5 ms, on a thread of its own, every process
/// whose command line carries a unique marker, mapped to the lab host whose network namespace it sits in (the link
/// <c>/proc/PID/ns/net</c>, compared with that of a process known to run in each host). A zombie does not run and is
/// left out; a stopped process (state T) still counts (it would go on the moment it is continued) and is recorded as
/// such. A process in no known host's namespace counts as a host of its own ("?net:[…]"), so it fails the one-host rule.
/// The sampler keeps a timeline of every change and the most hosts it ever saw running the service at once.
/// <para>
/// A scan reads the processes one after the other, so one that sees the service on two hosts may have caught a
/// move between two reads (the old instance ended after it was read, the new one began before it was read), which is
/// no overlap. Such a scan is checked again at once: every process it saw is read a second time (same pid, same start
/// time, not a zombie). A process alive at both reads was alive all along in between (a process does not come back),
/// and every second read comes after every first one, so two hosts whose processes both pass were running it at one
/// instant: that alone counts as two at once. A scan whose second reads leave one host is kept as a handover caught
/// mid-scan (<see cref="Handovers"/>), not a violation.
/// </para>
/// </summary>
internal sealed class SingletonSampler : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    private readonly byte[] _marker;
    private readonly IReadOnlyDictionary<string, string> _hostByNamespace;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly List<Sample> _timeline = [];
    private readonly List<Sample> _violations = [];
    private readonly List<Sample> _handovers = [];
    private readonly Thread _thread;
    private volatile bool _stopping;
    private Sample _last = new(TimeSpan.Zero, []);
    private string _lastSignature = "";
    private long _samples;
    private TimeSpan _longestGap;
    private TimeSpan _longestScan;
    private TimeSpan _scanning;
    private int _mostHostsAtOnce;

    private SingletonSampler(string marker, IReadOnlyDictionary<string, string> hostByNamespace)
    {
        _marker = Encoding.UTF8.GetBytes(marker);
        _hostByNamespace = hostByNamespace;
        // Normal priority: as root, a higher one would be a lower nice value, and the sampler would take CPU from the nodes it watches.
        _thread = new Thread(Run) { IsBackground = true, Name = "singleton sampler" };
    }

    /// <summary>One process of the service: its pid, its host, its state letter from /proc/PID/stat (R, S, D, T…) and its start time (clock ticks after boot).</summary>
    public sealed record Sighting(int Pid, string Host, char State, long StartTime = 0)
    {
        public override string ToString() => $"{Host}:{Pid}{(State is 'T' or 't' ? " (stopped)" : "")}";
    }

    /// <summary>What one scan found, <see cref="At"/> after the sampler started.</summary>
    public sealed record Sample(TimeSpan At, IReadOnlyList<Sighting> Sightings)
    {
        public IReadOnlySet<string> Hosts { get; } = Sightings.Select(s => s.Host).ToHashSet(StringComparer.Ordinal);

        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{At.TotalMilliseconds,8:0} ms  ") + (Sightings.Count == 0 ? "(nowhere)" : string.Join(", ", Sightings));
    }

    /// <summary>Starts sampling for processes whose command line contains <paramref name="marker"/>.</summary>
    /// <param name="pidInHost">Each host's name, by a process known to run in it (its pid).</param>
    public static SingletonSampler Start(string marker, IReadOnlyDictionary<string, int> pidInHost)
    {
        ArgumentException.ThrowIfNullOrEmpty(marker);
        ArgumentNullException.ThrowIfNull(pidInHost);
        var hostByNamespace = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (host, pid) in pidInHost)
        {
            var ns = NamespaceOf(pid) ?? throw new InvalidOperationException($"pid {pid} (in {host}) has no readable /proc/{pid}/ns/net");
            if (!hostByNamespace.TryAdd(ns, host))
            {
                throw new InvalidOperationException($"{host} and {hostByNamespace[ns]} share the network namespace {ns}");
            }
        }
        var sampler = new SingletonSampler(marker, hostByNamespace);
        sampler._thread.Start();
        return sampler;
    }

    /// <summary>Time on the sampler's clock (what <see cref="Sample.At"/> is measured on).</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The latest scan.</summary>
    public Sample Last
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    /// <summary>The most hosts seen running the service in one scan (1 is right; 2 is split brain).</summary>
    public int MostHostsAtOnce
    {
        get
        {
            lock (_gate)
            {
                return _mostHostsAtOnce;
            }
        }
    }

    /// <summary>Scans that saw the service running on two hosts at once, confirmed by a second read (the first 20).</summary>
    public IReadOnlyList<Sample> Violations
    {
        get
        {
            lock (_gate)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>Scans that saw the service on two hosts, one of which had ended by the second read: a move caught mid-scan.</summary>
    public IReadOnlyList<Sample> Handovers
    {
        get
        {
            lock (_gate)
            {
                return [.. _handovers];
            }
        }
    }

    /// <summary>How many scans ran, the longest time between two scans' starts, and the longest scan.</summary>
    public string Statistics
    {
        get
        {
            lock (_gate)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"{_samples} scans of /proc, longest gap between two {_longestGap.TotalMilliseconds:0.#} ms, scan {_scanning.TotalMilliseconds / Math.Max(1, _samples):0.##} ms on average, {_longestScan.TotalMilliseconds:0.#} ms at most");
            }
        }
    }

    /// <summary>Every change seen (one line each), then the scans that saw more than one host (the first 20).</summary>
    public string Describe()
    {
        lock (_gate)
        {
            var text = new StringBuilder("singleton timeline (sampler clock):\n");
            foreach (var sample in _timeline)
            {
                text.Append("  ").Append(sample).Append('\n');
            }
            if (_handovers.Count > 0)
            {
                text.Append("scans that caught a move mid-scan (one of the two had ended by the second read; not an overlap):\n");
                foreach (var sample in _handovers.Take(20))
                {
                    text.Append("  ").Append(sample).Append('\n');
                }
            }
            if (_violations.Count > 0)
            {
                text.Append("scans that saw it running on more than one host at once (confirmed by a second read):\n");
                foreach (var sample in _violations)
                {
                    text.Append("  ").Append(sample).Append('\n');
                }
            }
            return text.Append(Statistics).ToString();
        }
    }

    /// <summary>
    /// The first time at or after <paramref name="since"/> when a scan satisfied <paramref name="condition"/> (the scan
    /// in effect at <paramref name="since"/> included), or null if none has yet.
    /// </summary>
    public TimeSpan? FirstSince(TimeSpan since, Func<Sample, bool> condition)
    {
        lock (_gate)
        {
            var atSince = _timeline.LastOrDefault(s => s.At <= since);
            if (atSince is not null && condition(atSince))
            {
                return since;
            }
            return _timeline.FirstOrDefault(s => s.At > since && condition(s))?.At;
        }
    }

    /// <summary>Every process of the service seen at or after <paramref name="since"/>, as host:pid, in the order they appeared.</summary>
    public IReadOnlyList<string> PidsSince(TimeSpan since)
    {
        lock (_gate)
        {
            return [.. _timeline.Where((s, i) => s.At >= since || (i + 1 < _timeline.Count && _timeline[i + 1].At > since))
                .SelectMany(s => s.Sightings).Select(s => $"{s.Host}:{s.Pid}").Distinct()];
        }
    }

    /// <summary>Whether any scan at or after <paramref name="since"/> (the one in effect then included) saw the service on <paramref name="host"/>.</summary>
    public bool SeenOnSince(string host, TimeSpan since) => FirstSince(since, s => s.Hosts.Contains(host)) is not null;

    /// <summary>Waits until a scan at or after <paramref name="since"/> satisfies <paramref name="condition"/>; returns its time.</summary>
    public async Task<TimeSpan> WaitForAsync(TimeSpan since, Func<Sample, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Now + timeout;
        while (true)
        {
            if (FirstSince(since, condition) is { } at)
            {
                return at;
            }
            if (Now >= deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}; last scan: {Last}\n{Describe()}");
            }
            await Task.Delay(Interval);
        }
    }

    /// <summary>Every process of the service alive now, wherever it is (one scan, outside the sampler's thread).</summary>
    public IReadOnlyList<Sighting> ScanNow() => Scan();

    public void Dispose()
    {
        _stopping = true;
        _thread.Join();
    }

    /// <summary>The network namespace of <paramref name="pid"/>, as its link reads ("net:[4026532…]"), or null once it is gone.</summary>
    private static string? NamespaceOf(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/ns/net").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The state letter of /proc/PID/stat (the field after the command name's closing parenthesis) and the start time
    /// (field 22, the 20th after that parenthesis), or null once it is gone.
    /// </summary>
    private static (char State, long StartTime)? StatOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length)
            {
                return null;
            }
            var fields = stat[(close + 2)..].Split(' ');
            return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? (stat[close + 2], start) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the first 4 KiB of /proc/PID/cmdline contain the marker (the service's command is short): open, one read,
    /// close, into a buffer of the scan's, so that a scan of every process costs little CPU beside the nodes it watches.
    /// </summary>
    private bool CommandLineHasMarker(int pid, byte[] buffer)
    {
        try
        {
            using var handle = File.OpenHandle($"/proc/{pid}/cmdline");
            var read = RandomAccess.Read(handle, buffer, 0);
            return buffer.AsSpan(0, read).IndexOf(_marker) >= 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void Run()
    {
        var previousStart = TimeSpan.Zero;
        while (!_stopping)
        {
            var started = Now;
            var sightings = Scan();
            var at = Now;
            var sample = new Sample(at, sightings);
            var handover = false;
            if (sample.Hosts.Count > 1)
            {
                // Confirmed only by a second read of each process, after the whole scan (see the class's remarks).
                var confirmed = new Sample(at, [.. sightings.Where(StillRuns)]);
                handover = confirmed.Hosts.Count <= 1;
                sample = handover ? sample : confirmed;
            }
            lock (_gate)
            {
                if (_samples > 0)
                {
                    _longestGap = TimeSpan.FromTicks(Math.Max(_longestGap.Ticks, (started - previousStart).Ticks));
                }
                _longestScan = TimeSpan.FromTicks(Math.Max(_longestScan.Ticks, (at - started).Ticks));
                _scanning += at - started;
                _samples++;
                _last = sample;
                if (handover)
                {
                    _handovers.Add(sample);
                    _mostHostsAtOnce = Math.Max(_mostHostsAtOnce, 1);
                }
                else
                {
                    _mostHostsAtOnce = Math.Max(_mostHostsAtOnce, sample.Hosts.Count);
                    if (sample.Hosts.Count > 1 && _violations.Count < 20)
                    {
                        _violations.Add(sample);
                    }
                }
                var signature = string.Join(",", sightings);
                if (_timeline.Count == 0 || signature != _lastSignature)
                {
                    _timeline.Add(sample);
                    _lastSignature = signature;
                }
            }
            previousStart = started;
            Thread.Sleep(Interval);
        }
    }

    /// <summary>Whether the process <paramref name="sighting"/> saw is still the same one (same start time) and not a zombie.</summary>
    private static bool StillRuns(Sighting sighting) =>
        StatOf(sighting.Pid) is { } stat && stat.StartTime == sighting.StartTime && stat.State is not ('Z' or 'X' or 'x');

    private List<Sighting> Scan()
    {
        var found = new List<Sighting>();
        var buffer = new byte[4096];
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            if (!CommandLineHasMarker(pid, buffer))
            {
                continue;
            }
            // Looked at after the command line: a process that ends in between has no state, or is a zombie, and is left out.
            if (StatOf(pid) is not { } stat || stat.State is 'Z' or 'X' or 'x' || NamespaceOf(pid) is not { } ns)
            {
                continue;
            }
            found.Add(new Sighting(pid, _hostByNamespace.GetValueOrDefault(ns) ?? "?" + ns, stat.State, stat.StartTime));
        }
        found.Sort((a, b) => a.Pid.CompareTo(b.Pid));
        return found;
    }
}
