namespace Switchman.Testing;

/// <summary>
/// tcpdump on loopback for a set of TCP ports, written to a pcap file: what anyone on the path would see of that
/// traffic. Needs root and tcpdump (<c>.ci/run</c> installs it); fails loudly when either is missing.
/// </summary>
public sealed class PacketCapture : IAsyncDisposable
{
    private static readonly string[] Locations = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/sbin/tcpdump"];

    private readonly ChildProcess _tcpdump;

    private PacketCapture(ChildProcess tcpdump, string file)
    {
        _tcpdump = tcpdump;
        File = file;
    }

    /// <summary>The pcap file.</summary>
    public string File { get; }

    /// <summary>Starts capturing TCP traffic to and from <paramref name="ports"/> on <c>lo</c> and waits until tcpdump listens.</summary>
    public static async Task<PacketCapture> StartAsync(string file, IEnumerable<int> ports)
    {
        var tcpdump = Locations.FirstOrDefault(System.IO.File.Exists)
            ?? throw new InvalidOperationException($"tcpdump is not installed (looked in {string.Join(", ", Locations)}): apt-get install tcpdump");
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("capturing packets needs root (run the tests as root, as CI does)");
        }
        var filter = string.Join(" or ", ports.Select(port => $"tcp port {port}"));
        // -U: each packet is written as it is captured, so the file is complete up to the last packet tcpdump read.
        var process = ChildProcess.Start(tcpdump, ["-i", "lo", "-U", "-n", "-s", "0", "-w", file, filter], new ChildProcessOptions { DisplayName = "tcpdump" });
        await process.WaitForErrorLineAsync(line => line.Contains("listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "tcpdump to listen");
        return new PacketCapture(process, file);
    }

    /// <summary>The bytes captured so far (packet headers and payloads).</summary>
    public byte[] Captured()
    {
        using var stream = new FileStream(File, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Waits until at least <paramref name="bytes"/> more have been written, so that what was sent before now is in the file.</summary>
    public async Task WaitForMoreAsync(int bytes, TimeSpan timeout)
    {
        var size = Captured().Length;
        await Await.UntilAsync(() => Captured().Length >= size + bytes, timeout, $"tcpdump to write {bytes} more bytes");
    }

    public async ValueTask DisposeAsync() => await _tcpdump.DisposeAsync();
}
