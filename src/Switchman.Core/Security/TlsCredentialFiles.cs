namespace Switchman.Core.Security;

/// <summary>
/// A node's certificate, key and CA files, re-read when they change on disk: a rotation is "replace the files"; new
/// connections use the new set, established ones keep theirs. Checked at most once per <see cref="CheckEvery"/>,
/// when a connection asks (<see cref="Current"/>), so an idle node does no I/O. A set that fails to load (a key that
/// does not match the certificate because only one file was replaced yet) is reported through
/// <see cref="ReloadFailed"/> once and the previous set stays in use; the next change is tried again.
/// </summary>
public sealed class TlsCredentialFiles
{
    /// <summary>How often the files' modification times are compared, at most.</summary>
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private readonly string _certPath;
    private readonly string _keyPath;
    private readonly string? _caPath;
    private readonly TimeProvider _time;
    private readonly Lock _sync = new();
    private TlsCredentials _current;
    private FileStamp _loaded;
    private FileStamp _lastFailed;
    private long _nextCheck;

    /// <summary>Loads the files now.</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">A file is not what it should be.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <param name="caPath">Null: no authorities (a listener that checks no peer certificate).</param>
    public TlsCredentialFiles(string certPath, string keyPath, string? caPath, TimeProvider time)
    {
        _certPath = certPath;
        _keyPath = keyPath;
        _caPath = caPath;
        _time = time;
        _loaded = Stamp();
        _current = Load();
        _nextCheck = time.GetTimestamp() + Ticks(CheckEvery);
    }

    /// <summary>A new set was loaded after a change of the files.</summary>
    public event Action<TlsCredentials>? Reloaded;

    /// <summary>Changed files could not be loaded (the text says which and why); the previous set stays in use.</summary>
    public event Action<string>? ReloadFailed;

    /// <summary>The set to use for a new connection: the newest that loaded.</summary>
    public TlsCredentials Current
    {
        get
        {
            var now = _time.GetTimestamp();
            if (now >= Interlocked.Read(ref _nextCheck))
            {
                Refresh(now);
            }
            return Volatile.Read(ref _current);
        }
    }

    private void Refresh(long now)
    {
        TlsCredentials? reloaded = null;
        string? failure = null;
        lock (_sync)
        {
            if (now < _nextCheck)
            {
                return;
            }
            Interlocked.Exchange(ref _nextCheck, now + Ticks(CheckEvery));
            var stamp = Stamp();
            if (stamp == _loaded || stamp == _lastFailed)
            {
                return;
            }
            try
            {
                reloaded = Load();
                Volatile.Write(ref _current, reloaded);
                _loaded = stamp;
            }
            catch (Exception e) when (PemFiles.IsLoadFailure(e))
            {
                _lastFailed = stamp;
                failure = $"the changed TLS files ({string.Join(", ", new[] { _certPath, _keyPath, _caPath }.OfType<string>())}) do not load, the previous ones stay in use: {e.Message}";
            }
        }
        // Raised outside the lock: a handler may log or look at Current.
        if (reloaded is not null)
        {
            Reloaded?.Invoke(reloaded);
        }
        if (failure is not null)
        {
            ReloadFailed?.Invoke(failure);
        }
    }

    private TlsCredentials Load() =>
        new(PemFiles.LoadCertificateWithKey(_certPath, _keyPath), _caPath is null ? [] : PemFiles.LoadAuthorities(_caPath));

    private FileStamp Stamp() => new(StampOf(_certPath), StampOf(_keyPath), StampOf(_caPath));

    private static (DateTime, long) StampOf(string? path)
    {
        if (path is null)
        {
            return default;
        }
        var file = new FileInfo(path);
        return file.Exists ? (file.LastWriteTimeUtc, file.Length) : default;
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private readonly record struct FileStamp((DateTime, long) Cert, (DateTime, long) Key, (DateTime, long) Ca);
}
