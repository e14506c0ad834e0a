using System.Diagnostics;
using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>
/// A dead man's switch for one VIP on this node: a tiny <c>bash</c> child that removes the address unless this process
/// keeps telling it not to. This process renews it with how long its right to hold the VIP lasts at most (its lease);
/// when that passes without a renewal (this process is frozen — SIGSTOP, a stall — or starved of CPU past its lease),
/// or the pipe closes without the word <c>released</c> (this process died, even by SIGKILL), the guard removes the
/// address. Without it a crashed or frozen holder's kernel would keep answering ARP for the VIP while another node holds
/// it (keepalived has that problem). It ignores SIGTERM/SIGINT/SIGHUP, so a service manager that signals the whole
/// group at stop does not stop it before it has done its job. Started when the address is added, disarmed when this
/// process removes it.
/// </summary>
public sealed class AddressGuard : IAsyncDisposable
{
    /// <summary>How long disarming waits for the guard to exit before it is killed (by its PID).</summary>
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly TimeProvider _time;
    private Task _renewing = Task.CompletedTask;

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
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // $0.. are the ip command line, then the address and the device: no quoting of our values into the script. Each
        // line is a renewal (seconds it may wait for the next, bash's read -t takes fractions) or "released"; until the
        // first, it waits for ever. A read that times out or meets the end of the pipe ends the loop: remove.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""trap '' TERM INT HUP; wait=; while IFS= read -r ${wait:+-t "$wait"} word; do [ "$word" = released ] && exit 0; wait=$word; done; exec "$@" addr del "$VIP" dev "$DEV" 2>/dev/null""");
        start.ArgumentList.Add("switchman-vip-guard");
        foreach (var part in ipCommandLine)
        {
            start.ArgumentList.Add(part);
        }
        start.Environment["VIP"] = vip.ToString();
        start.Environment["DEV"] = device;
        try
        {
            return new AddressGuard(Process.Start(start) ?? throw new VipHostException("/bin/bash could not be started for the VIP's guard"), time);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new VipHostException($"/bin/bash cannot run for the VIP's guard ({e.Message})");
        }
    }

    /// <summary>Whether the guard has ended: it removed the address (its deadline passed), or was disarmed.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Lets the guard wait <paramref name="remaining"/> (this process's right to hold, at most) for the next renewal
    /// before it removes the address; <see cref="Timeout.InfiniteTimeSpan"/> sends nothing (it waits for ever). Never
    /// blocks: while an earlier renewal is still being written (a guard that does not read), this one is skipped.
    /// </summary>
    public void Renew(TimeSpan remaining)
    {
        if (remaining == Timeout.InfiniteTimeSpan || !_renewing.IsCompleted)
        {
            return;
        }
        var seconds = Math.Max(0.001, remaining.TotalSeconds).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        _renewing = WriteAsync(seconds);
    }

    private async Task WriteAsync(string line)
    {
        try
        {
            await _process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // It is gone: it removed the address (HasExited tells the keeper).
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>This process removed the address itself: the guard exits without touching it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            // A renewal still being written means a guard that does not read (frozen with us): it is killed below.
            await _renewing.WaitAsync(ExitLimit, _time).ConfigureAwait(false);
            await _process.StandardInput.WriteLineAsync("released").ConfigureAwait(false);
            _process.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or TimeoutException or ObjectDisposedException)
        {
            // It is gone already, or stuck.
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
