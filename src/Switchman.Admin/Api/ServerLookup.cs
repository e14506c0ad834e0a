using Microsoft.AspNetCore.Http;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Api;

/// <summary>404 answers for backend and server names, listing the ones that do exist.</summary>
internal static class ServerLookup
{
    /// <summary>Null when the backend exists (and, when given, has the server); otherwise the 404 to answer with.</summary>
    public static IResult? Find(SwitchmanConfig config, string backend, string? server = null) =>
        config.FindBackend(backend) is { } found && (server is null || found.Servers.Any(s => s.Name == server))
            ? null
            : NotFound(config, backend, server);

    public static IResult NotFound(SwitchmanConfig config, string backend, string? server)
    {
        if (config.FindBackend(backend) is not { } found)
        {
            var backends = config.Backends.Select(b => b.Name).ToList();
            return ApiResults.Error(StatusCodes.Status404NotFound, new ApiError(
                $"backend '{backend}' does not exist; {(backends.Count == 0 ? "no backends are defined" : "backends: " + string.Join(", ", backends))}")
            {
                Backends = backends,
            });
        }
        var servers = found.Servers.Select(s => s.Name).ToList();
        return ApiResults.Error(StatusCodes.Status404NotFound, new ApiError(
            $"backend '{backend}' has no server '{server}'; its servers: {string.Join(", ", servers)}")
        {
            Servers = servers,
        });
    }
}
