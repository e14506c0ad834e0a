using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Switchman.Testing;

namespace Switchman.CliTests.Packaging;

/// <summary>
/// Starts a program the way systemd starts a <c>Type=notify</c> service, as far as the program can tell: its parent
/// process is named <c>systemd</c> (what Microsoft.Extensions.Hosting.Systemd 10 looks at) and <c>NOTIFY_SOCKET</c>
/// names a Unix datagram socket, on which this stand-in receives the notifications. The parent is a bash script
/// called <c>systemd</c> that starts the program as its child, writes the child's PID to a file and exits with its
/// exit code. The program is signalled by its PID, as systemd signals a service's main process.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class SystemdStandIn : IAsyncDisposable
{
    private const string Script = """
        #!/bin/bash
        # Stands in for systemd: the child's parent is called systemd. $1: the file for the child's PID; then its argv.
        pid_file=$1
        shift
        "$@" &
        echo "$!" > "$pid_file.new" && mv "$pid_file.new" "$pid_file"
        wait "$!"
        """;

    private readonly Socket _notifications;

    private SystemdStandIn(Socket notifications, ChildProcess manager, int servicePid)
    {
        _notifications = notifications;
        Manager = manager;
        ServicePid = servicePid;
    }

    /// <summary>The stand-in: its output is the service's, its exit code the service's.</summary>
    public ChildProcess Manager { get; }

    /// <summary>The service's PID (the program's, not the stand-in's).</summary>
    public int ServicePid { get; }

    /// <summary>Starts <paramref name="program"/> with <paramref name="arguments"/>; its files go in <paramref name="directory"/>.</summary>
    public static async Task<SystemdStandIn> StartAsync(TempDirectory directory, string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var socketPath = directory.Combine("notify.socket");
        var notifications = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            notifications.Bind(new UnixDomainSocketEndPoint(socketPath));
            var script = directory.WriteFile("systemd", Script.Replace("\r", "", StringComparison.Ordinal) + "\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var pidFile = directory.Combine("service.pid");
            var manager = ChildProcess.Start(script, [pidFile, program, .. arguments], new ChildProcessOptions
            {
                Environment = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = socketPath },
                DisplayName = $"{Path.GetFileName(program)} under a stand-in systemd",
            });
            var pid = 0;
            await Await.UntilAsync(() => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), CultureInfo.InvariantCulture, out pid),
                timeout, "the stand-in systemd to start the service");
            return new SystemdStandIn(notifications, manager, pid);
        }
        catch
        {
            notifications.Dispose();
            throw;
        }
    }

    /// <summary>The next notification the service sent (READY=1, STOPPING=1…).</summary>
    /// <exception cref="TimeoutException">None within <paramref name="timeout"/>; the message shows the service's output.</exception>
    public async Task<string> ReceiveAsync(TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(timeout, TimeProvider.System);
        try
        {
            var length = await _notifications.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"No notification within {timeout.TotalSeconds:0.#} s.\n{Manager.DescribeOutput()}");
        }
    }

    /// <summary>SIGTERM to the service, as <c>systemctl stop</c> sends it.</summary>
    public void StopService() => ProcessSignals.Terminate(ServicePid);

    /// <summary>The name of the service's parent process, as the kernel has it (/proc/PID/comm).</summary>
    public string ParentNameOfService()
    {
        // /proc/PID/stat: "pid (comm) state ppid …"; the name may hold spaces, so read after its closing parenthesis.
        var stat = File.ReadAllText($"/proc/{ServicePid}/stat");
        var parent = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
        return File.ReadAllText($"/proc/{parent}/comm").TrimEnd('\n');
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        _notifications.Dispose();
    }
}
