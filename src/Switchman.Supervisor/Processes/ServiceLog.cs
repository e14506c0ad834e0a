using System.Text;

namespace Switchman.Supervisor.Processes;

/// <summary>
/// A service instance's log file. Each line the service writes to stdout or stderr becomes one line:
/// <c>2025-06-01T10:00:00.123Z stdout listening on :8080</c> — the time it was read (ISO-8601, UTC, milliseconds), the
/// stream (<c>stdout</c> or <c>stderr</c>, so errors can be picked out with grep), and the line as the service wrote
/// it. A line longer than 16 KiB is cut into several. When the file passes its size limit (10 MiB by default) it is
/// renamed to <c>LogFile.1</c>, replacing the older one, and a new file starts: at most twice the limit on disk.
/// </summary>
public static class ServiceLog
{
    /// <summary>Bounds what one call reads, whatever the file holds (one line is at most 16 KiB plus its prefix).</summary>
    private const long MaxTailBytes = 8 * 1024 * 1024;

    /// <summary>
    /// The last <paramref name="lines"/> lines of <paramref name="logFile"/>, oldest first; when the current file has
    /// fewer (just rotated), the rest come from the end of <c>.1</c>. Empty when there is no log yet. Reads backwards
    /// from the end: memory is bounded by what is returned, not by the file.
    /// </summary>
    public static IReadOnlyList<string> ReadTail(string logFile, int lines)
    {
        ArgumentException.ThrowIfNullOrEmpty(logFile);
        var current = TailOf(logFile, lines);
        if (current.Count >= lines)
        {
            return current;
        }
        var older = TailOf(logFile + ".1", lines - current.Count);
        older.AddRange(current);
        return older;
    }

    private static List<string> TailOf(string path, int count)
    {
        if (count <= 0)
        {
            return [];
        }
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
        using (file)
        {
            var end = file.Length;
            var limit = Math.Min(MaxTailBytes, (long)count * (OutputPump.MaxLineBytes + 64));
            var tailStart = FindTailStart(file, end, count, limit);
            file.Position = tailStart;
            var bytes = new byte[end - tailStart];
            file.ReadExactly(bytes);
            var text = Encoding.UTF8.GetString(bytes);
            var result = text.Split('\n').ToList();
            if (result.Count > 0 && result[^1].Length == 0)
            {
                result.RemoveAt(result.Count - 1);
            }
            return result.Count > count ? result[^count..] : result;
        }
    }

    /// <summary>Where the last <paramref name="count"/> lines begin: just after the newline before them, or the start of the file.</summary>
    private static long FindTailStart(FileStream file, long end, int count, long limit)
    {
        var block = new byte[8192];
        var position = end;
        var newlines = 0;
        while (position > 0 && end - position < limit)
        {
            var size = (int)Math.Min(block.Length, position);
            position -= size;
            file.Position = position;
            file.ReadExactly(block, 0, size);
            for (var i = size - 1; i >= 0; i--)
            {
                // The newline that ends the last line does not start one.
                if (block[i] == (byte)'\n' && position + i != end - 1 && ++newlines == count)
                {
                    return position + i + 1;
                }
            }
        }
        if (position == 0)
        {
            return 0;
        }
        // Cut at the limit: start after the next newline rather than mid-line.
        file.Position = position;
        int next;
        while ((next = file.ReadByte()) >= 0 && next != '\n')
        {
        }
        return file.Position;
    }
}
