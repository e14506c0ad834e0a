using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Switchman.Client;

/// <summary>
/// The typed client for a node's admin API (<c>/api/v1</c>). Every call either returns what the node answered or throws
/// an <see cref="AdminClientException"/>: <see cref="AdminUnreachableException"/> when no answer came,
/// <see cref="AdminApiException"/> when the node answered with an error (carrying its message and details).
/// </summary>
public sealed class AdminClient : IDisposable
{
    private const string EventStreamMediaType = "text/event-stream";

    private const string ClusterPath = "api/v1/cluster";

    private const string ClusterMembersPath = ClusterPath + "/members";

    /// <summary>
    /// What a membership change may take beyond the request timeout: the leader brings a new member up to date with the
    /// log (in several rounds when the log is long) before it counts it in.
    /// </summary>
    public static readonly TimeSpan MembershipChangeTime = TimeSpan.FromSeconds(60);

    /// <summary>
    /// What a service action (restart, stop, start, cleanup) may take beyond the request timeout: the node answers once
    /// the instances got there, which takes up to their stop_timeout and start_timeout (20 s and 60 s by default).
    /// </summary>
    public static readonly TimeSpan ServiceActionTime = TimeSpan.FromMinutes(5);

    /// <summary>
    /// What a rolling restart may take beyond the request timeout: for each node in turn, the drain (30 s by default),
    /// the stop and start timeouts, and up to a minute for every load balancer to see the server up again.
    /// </summary>
    public static readonly TimeSpan RollingRestartTime = TimeSpan.FromMinutes(30);

    private const string ServicesPath = "api/v1/services";

    private readonly HttpClient _http;

    /// <param name="settings">Where the node is and the token to send.</param>
    /// <param name="handler">The HTTP handler to use (tests); a fresh <see cref="SocketsHttpHandler"/> when null. Disposed with the client.</param>
    public AdminClient(AdminClientSettings settings, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        // Each call sets its own deadline (see SendAsync): most calls share RequestTimeout, a server removal waits
        // longer, and the event stream is only held to it until its headers arrive.
        _http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: true)
        {
            BaseAddress = settings.Endpoint,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (settings.Token is { } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public AdminClientSettings Settings { get; }

    /// <summary><c>GET /api/v1/status</c>.</summary>
    public async Task<AdminResponse<NodeStatus>> GetStatusAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/status");
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.NodeStatus);
    }

    /// <summary><c>GET /api/v1/backends/{backend}/servers/{server}</c>: one server's status.</summary>
    /// <exception cref="AdminApiException">404 when there is no such backend or server.</exception>
    public async Task<AdminResponse<ServerStatus>> GetServerAsync(string backend, string server, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ServerPath(backend, server));
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ServerStatus);
    }

    /// <summary><c>GET /api/v1/config</c> in the given form, with the revision from the ETag.</summary>
    public async Task<ConfigDocument> GetConfigAsync(ConfigFormat format, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/config");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypeOf(format)));
        var (headers, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return new ConfigDocument(body, RevisionOf(headers.ETag));
    }

    /// <summary>
    /// <c>PUT /api/v1/config</c>: proposes a whole configuration. The node validates it completely before anything changes.
    /// </summary>
    /// <param name="content">The configuration text.</param>
    /// <param name="format">Whether <paramref name="content"/> is YAML (errors then carry line numbers) or JSON.</param>
    /// <param name="ifRevision">Apply only if the node is still at this revision (If-Match); otherwise 409.</param>
    /// <param name="dryRun">Validate and report the changes, apply nothing.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="AdminApiException">409 when the revision moved; 422 listing every validation error.</exception>
    public async Task<AdminResponse<ConfigChange>> PutConfigAsync(
        string content, ConfigFormat format, long? ifRevision, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var request = new HttpRequestMessage(HttpMethod.Put, dryRun ? "api/v1/config?dry_run=true" : "api/v1/config")
        {
            Content = new StringContent(content, Encoding.UTF8, MediaTypeOf(format)),
        };
        if (ifRevision is { } revision)
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue($"\"{revision.ToString(CultureInfo.InvariantCulture)}\""));
        }
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ConfigChange);
    }

    /// <summary><c>POST /api/v1/reload</c>: the node reads its configuration file again and applies it; with
    /// <paramref name="dryRun"/>, it only reports what that would change.</summary>
    /// <exception cref="AdminApiException">422 when the file is invalid (the old configuration keeps running).</exception>
    public async Task<AdminResponse<ConfigChange>> ReloadAsync(CancellationToken cancellationToken, bool dryRun = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, dryRun ? "api/v1/reload?dry_run=true" : "api/v1/reload");
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ConfigChange);
    }

    /// <summary><c>POST /api/v1/backends/{backend}/servers/{server}/state</c>; <paramref name="state"/> is one of <see cref="ServerStates"/>.</summary>
    /// <returns>The server's status right after the change.</returns>
    public async Task<AdminResponse<ServerStatus>> SetServerStateAsync(
        string backend, string server, string state, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ServerPath(backend, server, "state"))
        {
            Content = JsonContent.Create(new StateRequest(state), AdminJsonContext.Default.StateRequest),
        };
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ServerStatus);
    }

    /// <summary><c>PUT /api/v1/backends/{backend}/servers/{server}/weight</c>.</summary>
    /// <returns>The server's status right after the change.</returns>
    public async Task<AdminResponse<ServerStatus>> SetServerWeightAsync(
        string backend, string server, int weight, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, ServerPath(backend, server, "weight"))
        {
            Content = JsonContent.Create(new WeightRequest(weight), AdminJsonContext.Default.WeightRequest),
        };
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ServerStatus);
    }

    /// <summary>
    /// <c>POST /api/v1/backends/{backend}/servers</c>: adds a server, a new configuration revision. The answer carries the
    /// revision, the changes and the new server's status.
    /// </summary>
    /// <exception cref="AdminApiException">404 no such backend; 409 the name is taken; 422 the server is invalid.</exception>
    public async Task<AdminResponse<ServerAdded>> AddServerAsync(string backend, NewServer server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        using var request = new HttpRequestMessage(HttpMethod.Post, ServersPath(backend))
        {
            Content = JsonContent.Create(server, AdminJsonContext.Default.NewServer),
        };
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ServerAdded);
    }

    /// <summary>
    /// <c>DELETE /api/v1/backends/{backend}/servers/{server}?timeout=</c>: the node drains the server, waits up to
    /// <paramref name="drainTimeout"/> for its in-flight requests, then removes it in a new revision. The call lasts
    /// as long as that wait, so its own timeout is stretched to cover it.
    /// </summary>
    /// <exception cref="AdminApiException">404 no such server; 409 requests were still in flight when the wait ended (the server stays in drain).</exception>
    public async Task<AdminResponse<ConfigChange>> RemoveServerAsync(string backend, string server, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{ServerPath(backend, server)}?timeout={Seconds(drainTimeout)}s");
        var (_, body) = await SendAsync(request, Settings.RequestTimeout + drainTimeout, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ConfigChange);
    }

    /// <summary><c>GET /api/v1/cluster</c>: the cluster as the node sees it, with each member's report (<see cref="ClusterStatus.Enabled"/> false when the node runs alone).</summary>
    public async Task<AdminResponse<ClusterStatus>> GetClusterAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ClusterPath);
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ClusterStatus);
    }

    /// <summary>
    /// <c>POST /api/v1/cluster/members</c>: adds the node whose cluster listener is at <paramref name="address"/> (started
    /// with <c>cluster.join: true</c>) as a voter. The leader first brings it up to date with the log, so the call may
    /// last a while: its timeout is stretched by <see cref="MembershipChangeTime"/>.
    /// </summary>
    /// <param name="address">The new member's cluster address, IP:port.</param>
    /// <param name="id">The node id it must report (its <c>cluster.node_id</c>); any when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="AdminApiException">
    /// 400/422 a bad address or id; 409 already a member, another membership change running, or the node did not catch
    /// up; 503 no leader or no quorum now (see <see cref="AdminApiException.RetryAfter"/>).
    /// </exception>
    public async Task<AdminResponse<MembershipChange>> AddMemberAsync(string address, string? id, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        using var request = new HttpRequestMessage(HttpMethod.Post, ClusterMembersPath)
        {
            Content = JsonContent.Create(new AddMemberRequest(address, id), AdminJsonContext.Default.AddMemberRequest),
        };
        var (_, body) = await SendAsync(request, Settings.RequestTimeout + MembershipChangeTime, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.MembershipChange);
    }

    /// <summary><c>DELETE /api/v1/cluster/members/{id-or-address}</c>: removes a member from the cluster.</summary>
    /// <param name="idOrAddress">The member's node id, or its cluster address (IP:port).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="AdminApiException">404 no such member; 409 another membership change running; 503 no leader or no quorum now.</exception>
    public async Task<AdminResponse<MembershipChange>> RemoveMemberAsync(string idOrAddress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(idOrAddress);
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{ClusterMembersPath}/{Uri.EscapeDataString(idOrAddress)}");
        var (_, body) = await SendAsync(request, Settings.RequestTimeout + MembershipChangeTime, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.MembershipChange);
    }

    /// <summary><c>GET /api/v1/vips</c>: every configured VIP with its holder, and the nodes in standby or unable to serve some VIP.</summary>
    public async Task<AdminResponse<VipList>> GetVipsAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/vips");
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.VipList);
    }

    /// <summary>
    /// <c>POST /api/v1/nodes/{node}/standby</c> (<paramref name="standby"/> true: the leader moves the node's VIPs away and
    /// gives it none) or <c>…/online</c> (false: it may hold VIPs again).
    /// </summary>
    /// <returns>What the shared state says of the node right after the change.</returns>
    /// <exception cref="AdminApiException">404 no such node (<see cref="ApiError.Nodes"/> lists those that exist); 503 no leader now.</exception>
    public async Task<AdminResponse<NodeStanding>> SetNodeStandbyAsync(string node, bool standby, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/v1/nodes/{Uri.EscapeDataString(node)}/{(standby ? "standby" : "online")}");
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.NodeStanding);
    }

    /// <summary><c>GET /api/v1/services</c>: every configured service and its instance on each node, as the nodes report them.</summary>
    public async Task<AdminResponse<ServiceList>> GetServicesAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ServicesPath);
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ServiceList);
    }

    /// <summary><c>GET /api/v1/services/{name}</c>: one service and its instances.</summary>
    /// <exception cref="AdminApiException">404 no such service (the message names those that exist).</exception>
    public async Task<AdminResponse<ServiceStatus>> GetServiceAsync(string name, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ServicePath(name));
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ServiceStatus);
    }

    /// <summary>
    /// <c>POST /api/v1/services/{name}/restart</c>: restarts the instance on <paramref name="node"/>, or on every node at
    /// once; with <paramref name="rolling"/>, one node at a time, each drained in every load balancer first (waiting up
    /// to <paramref name="drainTimeout"/>, the node's default 30 s when null) and put back once healthy. The node answers
    /// once the instances are back, so the call's timeout is stretched by <see cref="ServiceActionTime"/>, and a rolling
    /// restart's by <see cref="RollingRestartTime"/>.
    /// </summary>
    /// <returns>The service after the restart, and the steps taken.</returns>
    /// <exception cref="AdminApiException">
    /// 404 no such service, or no instance on that node; 409 the order was refused, or a rolling restart stopped
    /// (<see cref="ApiError.Steps"/> then says how far it got); 422 a bad combination or drain timeout.
    /// </exception>
    public async Task<AdminResponse<ServiceAction>> RestartServiceAsync(
        string name, string? node, bool rolling, TimeSpan? drainTimeout, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (node is { Length: > 0 })
        {
            query.Add("node=" + Uri.EscapeDataString(node));
        }
        if (rolling)
        {
            query.Add("rolling=true");
        }
        if (drainTimeout is { } drain)
        {
            query.Add($"drain_timeout={Seconds(drain)}s");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, WithQuery(ServicePath(name, "restart"), query));
        var (_, body) = await SendAsync(request, Settings.RequestTimeout + (rolling ? RollingRestartTime : ServiceActionTime), cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ServiceAction);
    }

    /// <summary>
    /// <c>POST /api/v1/services/{name}/stop</c>: stops the service on every node and keeps it stopped, across
    /// configuration changes, until <see cref="StartServiceAsync"/>. The node answers once the instances stopped (within
    /// their stop_timeout), so the call's timeout is stretched by <see cref="ServiceActionTime"/>.
    /// </summary>
    /// <exception cref="AdminApiException">404 no such service.</exception>
    public Task<AdminResponse<ServiceAction>> StopServiceAsync(string name, CancellationToken cancellationToken) =>
        ServiceActionAsync(ServicePath(name, "stop"), cancellationToken);

    /// <summary><c>POST /api/v1/services/{name}/start</c>: starts a stopped service again.</summary>
    /// <exception cref="AdminApiException">404 no such service.</exception>
    public Task<AdminResponse<ServiceAction>> StartServiceAsync(string name, CancellationToken cancellationToken) =>
        ServiceActionAsync(ServicePath(name, "start"), cancellationToken);

    /// <summary>
    /// <c>POST /api/v1/services/{name}/cleanup</c>: forgets the service's failures on <paramref name="node"/> or on every
    /// node; an instance left stopped by its failures starts again.
    /// </summary>
    /// <exception cref="AdminApiException">404 no such service, or no instance on that node.</exception>
    public Task<AdminResponse<ServiceAction>> CleanupServiceAsync(string name, string? node, CancellationToken cancellationToken) =>
        ServiceActionAsync(WithQuery(ServicePath(name, "cleanup"), node is { Length: > 0 } ? ["node=" + Uri.EscapeDataString(node)] : []), cancellationToken);

    /// <summary><c>POST /api/v1/services/{name}/move[?node=N]</c>: move a singleton away from a node (default: where it runs), until a cleanup.</summary>
    /// <exception cref="AdminApiException">404 no such service; 409 nowhere to move it; 422 a clone.</exception>
    public Task<AdminResponse<ServiceAction>> MoveServiceAsync(string name, string? node, CancellationToken cancellationToken) =>
        ServiceActionAsync(WithQuery(ServicePath(name, "move"), node is { Length: > 0 } ? ["node=" + Uri.EscapeDataString(node)] : []), cancellationToken);

    /// <summary><c>GET /api/v1/services/{name}/log?lines=N</c>: the last lines of the output of the answering node's instance, as text.</summary>
    /// <exception cref="AdminApiException">404 no such service, or it has written nothing on that node; 422 a bad line count.</exception>
    public async Task<string> GetServiceLogAsync(string name, int? lines, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, WithQuery(
            ServicePath(name, "log"), lines is { } count ? ["lines=" + count.ToString(CultureInfo.InvariantCulture)] : []));
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return body;
    }

    /// <summary><c>GET /api/v1/events?follow=false</c>: the events still in the node's history, after <paramref name="since"/> when given, oldest first.</summary>
    public async Task<IReadOnlyList<AdminEventItem>> GetEventsAsync(long? since, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, EventsPath(since, follow: false));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var (_, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw NotTheApi(e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw NotTheApi(new JsonException("expected an array of events"));
            }
            // Each event keeps its own JSON, as the event stream's do, so both can be printed the same way.
            return [.. document.RootElement.EnumerateArray().Select(e => ReadEvent(e.GetRawText()))];
        }
    }

    /// <summary>
    /// <c>GET /api/v1/events</c> as Server-Sent Events: the history after <paramref name="since"/>, then every new event
    /// as it happens, until <paramref name="cancellationToken"/> is cancelled or the node closes the stream (the
    /// enumeration then ends). A connection lost midway throws <see cref="AdminUnreachableException"/>.
    /// </summary>
    public async IAsyncEnumerable<AdminEventItem> FollowEventsAsync(long? since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, EventsPath(since, follow: true));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(EventStreamMediaType));
        using var response = await OpenStreamAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw ApiFailure(response, await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false));
        }
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var items = SseParser.Create(stream).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using (items.ConfigureAwait(false))
            {
                while (await NextEventAsync(items, cancellationToken).ConfigureAwait(false) is { } item)
                {
                    yield return item;
                }
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<AdminResponse<ServiceAction>> ServiceActionAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        var (_, body) = await SendAsync(request, Settings.RequestTimeout + ServiceActionTime, cancellationToken).ConfigureAwait(false);
        return Read(body, AdminJsonContext.Default.ServiceAction);
    }

    /// <summary>
    /// The next event of the stream, or null at its end. SSE comments (the node's heartbeats) never get here; messages
    /// whose data is not a JSON object (a ping from some proxy in between) are skipped.
    /// </summary>
    private async Task<AdminEventItem?> NextEventAsync(IAsyncEnumerator<SseItem<string>> items, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                if (!await items.MoveNextAsync().ConfigureAwait(false))
                {
                    return null;
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                throw new AdminUnreachableException($"the event stream from {Settings.Endpoint} was cut: {e.Message}", e);
            }
            var data = items.Current.Data;
            if (!data.TrimStart().StartsWith('{'))
            {
                continue;
            }
            return ReadEvent(data);
        }
    }

    private Task<(HttpResponseHeaders Headers, string Body)> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, Settings.RequestTimeout, cancellationToken);

    /// <summary>Sends a request, reads the whole body within <paramref name="timeout"/>, and throws unless the status is a success.</summary>
    private async Task<(HttpResponseHeaders Headers, string Body)> SendAsync(HttpRequestMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, Settings.Time);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, call.Token).ConfigureAwait(false);
            var body = await ReadBodyAsync(response, call.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw ApiFailure(response, body);
            }
            return (response.Headers, body);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw NoAnswer(timeout, e);
        }
    }

    /// <summary>Sends a request and returns once the response headers are in (within the request timeout); the body is left to stream.</summary>
    private async Task<HttpResponseMessage> OpenStreamAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Disposed as soon as the headers are in, so the deadline no longer applies to the stream that follows.
        using var deadline = new CancellationTokenSource(Settings.RequestTimeout, Settings.Time);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, call.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw NoAnswer(Settings.RequestTimeout, e);
        }
    }

    /// <summary>Sends a request; a failure to get any answer (refused, reset, name not found, TLS) becomes <see cref="AdminUnreachableException"/>.</summary>
    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new AdminUnreachableException($"cannot reach {Settings.Endpoint}: {e.Message}", e);
        }
    }

    private AdminUnreachableException NoAnswer(TimeSpan timeout, Exception e) =>
        new($"{Settings.Endpoint} did not answer within {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s", e);

    private async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new AdminUnreachableException($"the answer from {Settings.Endpoint} was cut: {e.Message}", e);
        }
    }

    /// <summary>The exception for an error answer, carrying the API's message, or the status line when the body is not the API's error JSON.</summary>
    private static AdminApiException ApiFailure(HttpResponseMessage response, string body)
    {
        ApiError? error = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/json" || body.TrimStart().StartsWith('{'))
        {
            try
            {
                error = JsonSerializer.Deserialize(body, AdminJsonContext.Default.ApiError);
            }
            catch (JsonException)
            {
                // Not the API's error document (a proxy in between, say): fall back to the status line below.
            }
        }
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        var message = string.IsNullOrWhiteSpace(error?.Error) ? status : error.Error;
        return new AdminApiException(response.StatusCode, error, body, message) { RetryAfter = RetryAfterOf(response.Headers) };
    }

    /// <summary>Retry-After as a delay: given in seconds, or as a date (taken against the answer's own Date); null when absent or past.</summary>
    private static TimeSpan? RetryAfterOf(HttpResponseHeaders headers) => headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } when headers.Date is { } now && date > now => date - now,
        _ => null,
    };

    private AdminResponse<T> Read<T>(string json, JsonTypeInfo<T> typeInfo)
    {
        try
        {
            var value = JsonSerializer.Deserialize(json, typeInfo)
                ?? throw new JsonException("the answer was JSON null");
            return new AdminResponse<T>(value, json);
        }
        catch (JsonException e)
        {
            throw NotTheApi(e);
        }
    }

    private AdminEventItem ReadEvent(string json) => new(Read(json, AdminJsonContext.Default.AdminEvent).Value, json);

    private AdminProtocolException NotTheApi(JsonException e) =>
        // The serializer's message names .NET types, which would only confuse; it stays in the inner exception.
        new($"{Settings.Endpoint} answered, but not with the admin API's JSON: is this the admin listener (admin.listen), not a frontend?", e);

    /// <summary>application/yaml is the registered YAML type (RFC 9512), and the one the node declares it accepts.</summary>
    private static string MediaTypeOf(ConfigFormat format) => format == ConfigFormat.Json ? "application/json" : "application/yaml";

    /// <summary>The revision in an ETag such as <c>"12"</c> (or weak <c>W/"12"</c>); null when there is none or it is not a number.</summary>
    internal static long? RevisionOf(EntityTagHeaderValue? etag) =>
        etag is not null && long.TryParse(etag.Tag.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var revision)
            ? revision
            : null;

    /// <summary>A duration as whole seconds, rounded up, as the API's query parameters take it (with an "s").</summary>
    private static string Seconds(TimeSpan duration) => ((long)Math.Ceiling(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static string WithQuery(string path, IReadOnlyList<string> query) => query.Count == 0 ? path : path + "?" + string.Join('&', query);

    private static string ServicePath(string name, string? what = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = $"{ServicesPath}/{Uri.EscapeDataString(name)}";
        return what is null ? path : $"{path}/{what}";
    }

    private static string ServersPath(string backend)
    {
        ArgumentException.ThrowIfNullOrEmpty(backend);
        return $"api/v1/backends/{Uri.EscapeDataString(backend)}/servers";
    }

    private static string ServerPath(string backend, string server, string? what = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(server);
        var path = $"{ServersPath(backend)}/{Uri.EscapeDataString(server)}";
        return what is null ? path : $"{path}/{what}";
    }

    private static string EventsPath(long? since, bool follow)
    {
        var query = new List<string>();
        if (since is { } id)
        {
            query.Add("since=" + id.ToString(CultureInfo.InvariantCulture));
        }
        if (!follow)
        {
            query.Add("follow=false");
        }
        return WithQuery("api/v1/events", query);
    }
}
