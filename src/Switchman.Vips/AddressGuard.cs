using System.Diagnostics;
using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>
/// A dead man's switch for one VIP on this node: a tiny shell child that waits on a pipe from this process and, when the
/// pipe closes without the word <c>released</c> (this process died, even by SIGKILL), removes the address. Without it a
/// crashed holder's kernel would keep answering ARP for the VIP while another node holds it (keepalived has that
/// problem). It ignores SIGTERM/SIGINT/SIGHUP, so a service manager that signals the whole group at stop does not stop
/// it before it has done its job. Started when the address is added, disarmed when this process removes it.
/// </summary>
public sealed class AddressGuard : IAsyncDisposable
{
    /// <summary>How long disarming waits for the guard to exit before it is killed (by its PID).</summary>
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly TimeProvider _time;

    private AddressGuard(Process process, TimeProvider time)
    {
        _process = process;
        _time = time;
    }

    public int Pid => _process.Id;

    /// <summary>Starts the guard of <paramref name="vip"/> on <paramref name="device"/>, removed with <paramref name="ipCommandLine"/> (<c>ip</c>, with its namespace option).</summary>
    public static AddressGuard Start(IReadOnlyList<string> ipCommandLine, VipAddress vip, string device, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(ipCommandLine);
        ArgumentNullException.ThrowIfNull(vip);
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // $0.. are the ip command line, then the address and the device: no quoting of our values into the script.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""trap '' TERM INT HUP; read -r word; [ "$word" = released ] || exec "$@" addr del "$VIP" dev "$DEV" 2>/dev/null""");
        start.ArgumentList.Add("switchman-vip-guard");
        foreach (var part in ipCommandLine)
        {
            start.ArgumentList.Add(part);
        }
        start.Environment["VIP"] = vip.ToString();
        start.Environment["DEV"] = device;
        try
        {
            return new AddressGuard(Process.Start(start) ?? throw new VipHostException("/bin/sh could not be started for the VIP's guard"), time);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new VipHostException($"/bin/sh cannot run for the VIP's guard ({e.Message})");
        }
    }

    /// <summary>This process removed the address itself: the guard exits without touching it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.WriteLineAsync("released").ConfigureAwait(false);
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It is gone already.
        }
        using var limit = new CancellationTokenSource(ExitLimit, _time);
        try
        {
            await _process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
