using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace Switchman.Supervisor.Processes;

/// <summary>
/// The one writer of an instance's log file: appends the lines of both pipes in the order they were read, in the
/// format <see cref="ServiceLog"/> describes, and rotates the file when it passes its limit. A write that fails (disk
/// full, directory removed) loses that line, not the service: reading goes on, so the service never blocks on a full
/// pipe, and the file is opened afresh for the next line.
/// </summary>
internal static class ServiceLogWriter
{
    public static async Task RunAsync(ChannelReader<LogLine> lines, string path, long rotationBytes, CancellationToken cancellationToken)
    {
        FileStream? file = null;
        try
        {
            while (await lines.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (lines.TryRead(out var line))
                {
                    try
                    {
                        file ??= Open(path);
                        file.Write(Format(line));
                        if (file.Position > rotationBytes)
                        {
                            await file.DisposeAsync().ConfigureAwait(false);
                            file = null;
                            File.Move(path, path + ".1", overwrite: true);
                        }
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        file = await CloseQuietlyAsync(file).ConfigureAwait(false);
                    }
                }
                // Nothing more to read at the moment: what was written becomes visible to readers of the file.
                try
                {
                    if (file is not null)
                    {
                        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (IOException)
                {
                    file = await CloseQuietlyAsync(file).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Abandoned at disposal.
        }
        finally
        {
            await CloseQuietlyAsync(file).ConfigureAwait(false);
        }
    }

    /// <summary>"2025-06-01T10:00:00.123Z stdout " + the line + "\n".</summary>
    internal static byte[] Format(LogLine line)
    {
        var prefix = Encoding.ASCII.GetBytes(
            line.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) + " " + line.Stream + " ");
        var bytes = new byte[prefix.Length + line.Text.Length + 1];
        prefix.CopyTo(bytes, 0);
        line.Text.CopyTo(bytes, prefix.Length);
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static FileStream Open(string path)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }
        // Others may read (ReadTail, an operator's tail -f) and rename it meanwhile.
        return new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
    }

    private static async Task<FileStream?> CloseQuietlyAsync(FileStream? file)
    {
        if (file is null)
        {
            return null;
        }
        try
        {
            await file.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The buffered lines are lost with the disk that refused them.
        }
        return null;
    }
}
