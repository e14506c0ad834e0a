using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Switchman.Admin.Control;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;
using Switchman.Proxy;

namespace Switchman.Admin.Api;

/// <summary>
/// Changes to one server. State and weight are runtime overrides of the data plane (no new revision; a later change
/// of that server's configuration replaces them). Adding and removing a server are configuration changes through the
/// store, each a new revision.
/// </summary>
internal static class ServerEndpoints
{
    public static readonly TimeSpan DefaultRemoveTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxRemoveTimeout = TimeSpan.FromMinutes(10);

    private static readonly string StateNames = ScalarFormats.EnumNames<ServerAdminState>();

    public static async Task<IResult> SetStateAsync(
        string backend, string server, HttpRequest request, ClaimsPrincipal user,
        ConfigStore store, DataPlane dataPlane, NodeEvents events, RequestRates rates, CancellationToken cancellationToken)
    {
        if (ServerLookup.Find(store.Current.Config, backend, server) is { } notFound)
        {
            return notFound;
        }
        var (body, error) = await JsonBody.ReadAsync(request, "{\"state\": \"drain\"}", cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return error!;
        }
        body.RejectUnknown("state");
        var text = body.String("state", required: true);
        ServerAdminState state = default;
        if (text is not null && !ScalarFormats.TryParseEnum(text, out state))
        {
            body.Fail("state", $"must be one of: {StateNames}");
        }
        if (body.Errors.Count > 0)
        {
            return body.Invalid();
        }
        // Every node (this one included) applies it when committed, and publishes the change then.
        var result = await store.SetServerStateAsync(backend, server, state, ConfigEndpoints.Author(user), cancellationToken).ConfigureAwait(false);
        return ChangedServerStatus(store, dataPlane, rates, backend, server, result);
    }

    public static async Task<IResult> SetWeightAsync(
        string backend, string server, HttpRequest request, ClaimsPrincipal user,
        ConfigStore store, DataPlane dataPlane, NodeEvents events, RequestRates rates, CancellationToken cancellationToken)
    {
        if (ServerLookup.Find(store.Current.Config, backend, server) is { } notFound)
        {
            return notFound;
        }
        var (body, error) = await JsonBody.ReadAsync(request, "{\"weight\": 10}", cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return error!;
        }
        body.RejectUnknown("weight");
        var weight = body.Int("weight", required: true, 0, 256);
        if (body.Errors.Count > 0)
        {
            return body.Invalid();
        }
        var result = await store.SetServerWeightAsync(backend, server, weight!.Value, ConfigEndpoints.Author(user), cancellationToken).ConfigureAwait(false);
        return ChangedServerStatus(store, dataPlane, rates, backend, server, result);
    }

    public static async Task<IResult> AddAsync(
        string backend, HttpRequest request, ClaimsPrincipal user,
        ConfigStore store, DataPlane dataPlane, NodeEvents events, RequestRates rates, CancellationToken cancellationToken)
    {
        var current = store.Current;
        if (ServerLookup.Find(current.Config, backend) is { } notFound)
        {
            return notFound;
        }
        var (body, error) = await JsonBody.ReadAsync(request, "{\"name\": \"c\", \"address\": \"10.0.0.13:5000\"}", cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return error!;
        }
        body.RejectUnknown("name", "address", "weight", "backup", "state");
        var name = body.String("name", required: true);
        var address = body.String("address", required: true);
        var weight = body.Int("weight", required: false, 0, 256);
        var backup = body.Bool("backup");
        var stateText = body.String("state", required: false);
        ServerAdminState state = default;
        if (stateText is not null && !ScalarFormats.TryParseEnum(stateText, out state))
        {
            body.Fail("state", $"must be one of: {StateNames}");
        }
        if (body.Errors.Count > 0)
        {
            return body.Invalid();
        }
        var pool = current.Config.FindBackend(backend)!;
        if (pool.Servers.Any(s => s.Name == name))
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"backend '{backend}' already has a server '{name}'");
        }
        var added = new ServerConfig
        {
            Name = name!,
            Address = address!,
            Weight = weight ?? 1,
            Backup = backup ?? false,
            State = stateText is null ? ServerAdminState.Ready : state,
        };
        var outcome = await store.AddServerAsync(backend, added, ConfigEndpoints.Author(user), cancellationToken).ConfigureAwait(false);
        if (outcome is not ApplyOutcome.Applied applied)
        {
            return ConfigEndpoints.ToResult(request, outcome, errorsInFile: false);
        }
        request.HttpContext.Response.Headers.ETag = ConfigEndpoints.ETag(applied.Current.Revision);
        request.HttpContext.Response.Headers.Location = $"{AdminApi.Prefix}/backends/{Uri.EscapeDataString(backend)}/servers/{Uri.EscapeDataString(added.Name)}";
        return ApiResults.Json(
            new ServerAddedDocument(applied.Current.Revision, applied.Diff.Changes, StatusEndpoints.FindStatus(dataPlane, rates, backend, added.Name)),
            ApiResults.Documents.ServerAddedDocument,
            StatusCodes.Status201Created);
    }

    /// <summary>
    /// Drains the server, waits (bounded by <c>?timeout=</c>) until it has no request in flight, then applies a
    /// configuration without it. The removal is validated before anything changes; if the wait runs out, the server
    /// stays in drain and is not removed.
    /// </summary>
    public static async Task<IResult> RemoveAsync(
        string backend, string server, HttpRequest request, ClaimsPrincipal user,
        ConfigStore store, DataPlane dataPlane, NodeEvents events, RequestRates rates, TimeProvider time, CancellationToken cancellationToken)
    {
        var current = store.Current;
        if (ServerLookup.Find(current.Config, backend, server) is { } notFound)
        {
            return notFound;
        }
        if (!TryParseTimeout(request, out var timeout))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest,
                $"timeout must be a duration such as {ScalarFormats.DurationForms}, at most {MaxRemoveTimeout.TotalMinutes:0}m");
        }
        var author = ConfigEndpoints.Author(user);
        var check = await store.RemoveServerAsync(backend, server, author, dryRun: true, cancellationToken).ConfigureAwait(false);
        if (check is not ApplyOutcome.Applied)
        {
            return ConfigEndpoints.ToResult(request, check, errorsInFile: false);
        }
        if (store.State.OverrideOf(backend, server)?.State != ServerAdminState.Drain)
        {
            // Drained on every node; the wait below watches this node's in-flight requests.
            await store.SetServerStateAsync(backend, server, ServerAdminState.Drain, author, cancellationToken).ConfigureAwait(false);
        }
        using (var deadline = new CancellationTokenSource(timeout, time))
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken))
        {
            try
            {
                await dataPlane.WhenServerIdleAsync(backend, server, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                var inFlight = dataPlane.InFlight(backend, server) ?? 0;
                return ApiResults.Error(StatusCodes.Status409Conflict, new ApiError(
                    string.Create(CultureInfo.InvariantCulture,
                        $"server {backend}/{server} still had {inFlight} request(s) in flight after {ConfigWriter.Duration(timeout)}; it stays in drain and was not removed (retry, or pass a longer ?timeout=)"))
                {
                    InFlight = inFlight,
                });
            }
        }

        // The wait may have outlasted other changes.
        if (ServerLookup.Find(store.Current.Config, backend, server) is { } goneMeanwhile)
        {
            return goneMeanwhile;
        }
        var outcome = await store.RemoveServerAsync(backend, server, author, dryRun: false, cancellationToken).ConfigureAwait(false);
        return ConfigEndpoints.ToResult(request, outcome, errorsInFile: false);
    }

    /// <summary>
    /// After a state or weight change: the server as this node's data plane runs it, or, on a witness (which runs no
    /// data plane), as the configuration describes it with the overrides the state now holds.
    /// </summary>
    private static IResult ChangedServerStatus(ConfigStore store, DataPlane dataPlane, RequestRates rates, string backend, string server, AppendResult result)
    {
        if (!result.Outcome.Accepted)
        {
            // Removed meanwhile (by another change, perhaps on another node).
            return ServerLookup.NotFound(store.Current.Config, backend, server);
        }
        if (StatusEndpoints.FindStatus(dataPlane, rates, backend, server) is { } running)
        {
            return ApiResults.Json(running, ApiResults.Documents.ServerStatusDocument);
        }
        if (store.State.Effective(store.Current.Config).FindBackend(backend)?.Servers.FirstOrDefault(s => s.Name == server) is not { } configured)
        {
            return ServerLookup.NotFound(store.Current.Config, backend, server);
        }
        return ApiResults.Json(new ServerStatusDocument(
            configured.Name, configured.Address, configured.Backup, configured.State.ToString().ToLowerInvariant(), "unknown", Available: false,
            configured.Weight, InFlight: 0, RequestRate: 0, RequestsTotal: 0, EjectedUntil: null, LastCheck: null), ApiResults.Documents.ServerStatusDocument);
    }

    private static bool TryParseTimeout(HttpRequest request, out TimeSpan timeout)
    {
        var text = request.Query["timeout"].ToString();
        if (text.Length == 0)
        {
            timeout = DefaultRemoveTimeout;
            return true;
        }
        return ScalarFormats.TryParseDuration(text, out timeout) && timeout <= MaxRemoveTimeout;
    }
}
