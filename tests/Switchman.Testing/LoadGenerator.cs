using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Switchman.Testing;

/// <summary>
/// Sends bounded load through a shared, pooled HttpClient and records every outcome. Either run it to the end with
/// <see cref="RunAsync"/>, or <see cref="Start"/> it, do something while it runs (wait for N requests, kill a backend),
/// then await <see cref="LoadRun.Completion"/>.
/// </summary>
public static class LoadGenerator
{
    /// <summary>Runs the load to its end (time or count bound) and returns what it saw.</summary>
    /// <param name="options">Concurrency and bounds.</param>
    /// <param name="createRequest">Builds request number i (0, 1, 2…); called once per request, the request is disposed after use.</param>
    /// <param name="cancellationToken">Cancels in-flight requests and fails the run with <see cref="OperationCanceledException"/>.</param>
    public static async Task<LoadResult> RunAsync(
        LoadOptions options, Func<int, HttpRequestMessage> createRequest, CancellationToken cancellationToken = default)
    {
        await using var run = Start(options, createRequest, cancellationToken);
        return await run.Completion.ConfigureAwait(false);
    }

    /// <summary>Starts the load and returns at once; the returned run must be disposed (which cancels what is left).</summary>
    /// <inheritdoc cref="RunAsync" path="/param"/>
    public static LoadRun Start(LoadOptions options, Func<int, HttpRequestMessage> createRequest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(createRequest);
        options.Validate();
        return new LoadRun(options, createRequest, cancellationToken);
    }
}

/// <summary>A load run in progress. See <see cref="LoadGenerator"/>.</summary>
public sealed class LoadRun : IAsyncDisposable
{
    private readonly LoadOptions _options;
    private readonly Func<int, HttpRequestMessage> _createRequest;
    private readonly CancellationToken _callerToken;
    private readonly HttpClient _client;

    // Aborting cancels requests in flight (the caller's token or dispose); stopping only prevents new ones (time bound or StopAsync).
    private readonly CancellationTokenSource _abort;
    private readonly CancellationTokenSource _durationElapsed;
    private readonly CancellationTokenSource _stopIssuing;

    private readonly long _started;
    private long _issued;
    private long _completed;
    private int _disposed;

    internal LoadRun(LoadOptions options, Func<int, HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        _options = options;
        _createRequest = createRequest;
        _callerToken = cancellationToken;

        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = options.RequestTimeout,
        };
        options.ConfigureHandler?.Invoke(handler);
        _client = new HttpClient(handler) { Timeout = options.RequestTimeout };

        _abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _durationElapsed = new CancellationTokenSource(options.MaxDuration, options.TimeProvider);
        _stopIssuing = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token, _durationElapsed.Token);
        _started = options.TimeProvider.GetTimestamp();
        Completion = RunAsync();
    }

    /// <summary>Requests completed so far, successfully or not.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>The result, once every client has finished.</summary>
    public Task<LoadResult> Completion { get; }

    /// <summary>Waits until at least <paramref name="count"/> requests have completed: a barrier for "do X under load".</summary>
    /// <exception cref="TimeoutException">Fewer had completed after <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The run ended before that many completed.</exception>
    public async Task WaitForCompletedAsync(long count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await Await.UntilAsync(
                () => Completed >= count || (Completion.IsCompleted
                    ? throw new InvalidOperationException(
                        $"The load run ended after {Completed} requests, before {count} had completed.", Completion.Exception)
                    : false),
                timeout,
                $"{count} load requests to complete",
                cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Only {Completed} had completed.", e);
        }
    }

    /// <summary>Starts no new requests, lets those in flight complete, and returns the result.</summary>
    public async Task<LoadResult> StopAsync()
    {
        await _stopIssuing.CancelAsync().ConfigureAwait(false);
        return await Completion.ConfigureAwait(false);
    }

    /// <summary>
    /// Cancels requests still in flight, waits for every client to finish, and releases the HttpClient. How the run
    /// ended (result, cancellation or failure) is reported by <see cref="Completion"/>, not here.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _abort.CancelAsync().ConfigureAwait(false);
        try
        {
            await ((Task)Completion).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _client.Dispose();
            _stopIssuing.Dispose();
            _durationElapsed.Dispose();
            _abort.Dispose();
        }
    }

    private async Task<LoadResult> RunAsync()
    {
        // On the thread pool, so clients run in parallel whatever synchronization context the test has.
        var clients = Enumerable.Range(0, _options.Concurrency).Select(_ => Task.Run(RunClientAsync)).ToArray();
        var tallies = await Task.WhenAll(clients).ConfigureAwait(false);
        var elapsed = _options.TimeProvider.GetElapsedTime(_started);
        _callerToken.ThrowIfCancellationRequested();
        return ClientTally.Combine(tallies, elapsed);
    }

    private async Task<ClientTally> RunClientAsync()
    {
        var tally = new ClientTally();
        try
        {
            while (!_stopIssuing.IsCancellationRequested)
            {
                var sequence = Interlocked.Increment(ref _issued) - 1;
                if (sequence >= _options.MaxRequests || !await WaitForTurnAsync(sequence).ConfigureAwait(false)
                    || !await SendOneAsync((int)sequence, tally).ConfigureAwait(false))
                {
                    break;
                }
                Interlocked.Increment(ref _completed);
            }
            return tally;
        }
        catch (Exception)
        {
            // A bug in the test (a request factory that throws, say) fails the run: stop the other clients too, then report it.
            await _stopIssuing.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>With a paced load, waits until request <paramref name="sequence"/> is due; false when the run stopped meanwhile.</summary>
    private async ValueTask<bool> WaitForTurnAsync(long sequence)
    {
        if (_options.RequestsPerSecond is not { } rate)
        {
            return true;
        }
        var due = TimeSpan.FromSeconds(sequence / rate) - _options.TimeProvider.GetElapsedTime(_started);
        if (due <= TimeSpan.Zero)
        {
            return true;
        }
        try
        {
            await Task.Delay(due, _options.TimeProvider, _stopIssuing.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (_stopIssuing.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Sends one request and records its outcome; false when the run was aborted meanwhile (nothing recorded).</summary>
    private async Task<bool> SendOneAsync(int sequence, ClientTally tally)
    {
        using var request = _createRequest(sequence);
        var description = $"#{sequence} {request.Method} {request.RequestUri}";
        var started = _options.TimeProvider.GetTimestamp();
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, _abort.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(_abort.Token).ConfigureAwait(false);
            var latency = _options.TimeProvider.GetElapsedTime(started);
            var server = ServerName(response.Headers, response.Content.Headers, body);
            var status = (int)response.StatusCode;
            var failure = response.IsSuccessStatusCode ? null
                : $"{description}: {status} {response.ReasonPhrase}{(server is null ? "" : $" from {server}")}";
            tally.RecordResponse(sequence, status, server, latency, failure);
            return true;
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // Transport failures (refused, reset, ended early) and timeouts are outcomes to count. Anything else is a bug
            // in the test (a bad request factory, say) and fails the run.
            tally.RecordException(sequence, _options.TimeProvider.GetElapsedTime(started), $"{description}: {Describe(e)}");
            return true;
        }
    }

    /// <summary>The demo backend names itself in the X-Server header and in its JSON body; either will do.</summary>
    private static string? ServerName(HttpResponseHeaders headers, HttpContentHeaders contentHeaders, byte[] body)
    {
        if (headers.TryGetValues("X-Server", out var values) && values.FirstOrDefault() is { Length: > 0 } header)
        {
            return header;
        }
        if (contentHeaders.ContentType?.MediaType != "application/json" || body.Length == 0)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("server", out var server)
                && server.ValueKind == JsonValueKind.String
                ? server.GetString()
                : null;
        }
        catch (JsonException)
        {
            // Not the demo backend's JSON: no server name to count.
            return null;
        }
    }

    /// <summary>"HttpRequestException: Connection refused (127.0.0.1:1) ← SocketException: Connection refused".</summary>
    private static string Describe(Exception exception)
    {
        var text = new StringBuilder();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (text.Length > 0)
            {
                text.Append(" ← ");
            }
            text.Append(current.GetType().Name).Append(": ").Append(current.Message);
        }
        return text.ToString();
    }

    /// <summary>One client's counts, kept separately so clients never contend, and combined at the end.</summary>
    private sealed class ClientTally
    {
        private readonly Dictionary<int, long> _statusCounts = [];
        private readonly Dictionary<string, long> _serverCounts = [];
        private readonly List<(int Sequence, string Description)> _failures = [];
        private readonly List<TimeSpan> _latencies = [];
        private long _succeeded;
        private long _failed;
        private long _exceptions;

        public void RecordResponse(int sequence, int status, string? server, TimeSpan latency, string? failure)
        {
            _statusCounts[status] = _statusCounts.GetValueOrDefault(status) + 1;
            if (server is not null)
            {
                _serverCounts[server] = _serverCounts.GetValueOrDefault(server) + 1;
            }
            _latencies.Add(latency);
            if (failure is null)
            {
                _succeeded++;
            }
            else
            {
                RecordFailure(sequence, failure);
            }
        }

        public void RecordException(int sequence, TimeSpan latency, string failure)
        {
            _exceptions++;
            _latencies.Add(latency);
            RecordFailure(sequence, failure);
        }

        public static LoadResult Combine(IReadOnlyCollection<ClientTally> tallies, TimeSpan elapsed)
        {
            var statusCounts = new Dictionary<int, long>();
            var serverCounts = new Dictionary<string, long>();
            foreach (var tally in tallies)
            {
                foreach (var (status, count) in tally._statusCounts)
                {
                    statusCounts[status] = statusCounts.GetValueOrDefault(status) + count;
                }
                foreach (var (server, count) in tally._serverCounts)
                {
                    serverCounts[server] = serverCounts.GetValueOrDefault(server) + count;
                }
            }
            var succeeded = tallies.Sum(tally => tally._succeeded);
            var failed = tallies.Sum(tally => tally._failed);
            return new LoadResult
            {
                Total = succeeded + failed,
                Succeeded = succeeded,
                Failed = failed,
                Exceptions = tallies.Sum(tally => tally._exceptions),
                StatusCounts = statusCounts,
                ServerCounts = serverCounts,
                FirstFailures = tallies
                    .SelectMany(tally => tally._failures)
                    .OrderBy(failure => failure.Sequence)
                    .Take(LoadResult.MaxFailureDescriptions)
                    .Select(failure => failure.Description)
                    .ToArray(),
                Latencies = tallies.SelectMany(tally => tally._latencies).Order().ToArray(),
                Elapsed = elapsed,
            };
        }

        private void RecordFailure(int sequence, string description)
        {
            _failed++;
            // Each client keeps its first few; the combined result keeps the earliest overall.
            if (_failures.Count < LoadResult.MaxFailureDescriptions)
            {
                _failures.Add((sequence, description));
            }
        }
    }
}
