using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Api.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;token&gt;</c> against the tokens of the running configuration. Answers 401 (with
/// <c>WWW-Authenticate: Bearer</c>), 403, and 429 to an address that failed too often (<see cref="AuthFailureLimiter"/>),
/// in the API's JSON error form, saying what to do about it.
/// </summary>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, Microsoft.Extensions.Logging.ILoggerFactory loggerFactory, UrlEncoder encoder,
    AdminTokens tokens, AuthFailureLimiter limiter)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";

    private const string Prefix = "Bearer ";

    /// <summary>This request's token is valid but new to its address, which is limited (a handler serves one request).</summary>
    private bool _newTokenWhileLimited;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        // Failure messages end up in framework logs: they describe the header, never repeat it.
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("the Authorization header is not of the form 'Bearer <token>'"));
        }
        if (tokens.Find(header[Prefix.Length..].Trim()) is not { } identity)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown token"));
        }
        if (!limiter.Admit(Context.Connection.RemoteIpAddress, "token " + identity.Name))
        {
            // Answered like a wrong token: from where guessing goes on, a guess that hits must look like one that misses.
            _newTokenWhileLimited = true;
            return Task.FromResult(AuthenticateResult.Fail("a token new to this address, which failed authentication too often"));
        }
        var claims = new[]
        {
            new Claim(ClaimTypes.Name, identity.Name),
            new Claim(ClaimTypes.Role, RoleName(identity.Role)),
        };
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <summary>A request to an endpoint that needs a token came without a valid one: 401, or 429 from an address that failed too often.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // With no token configured nothing can succeed, and the answer says how to configure one: nothing to limit.
        if (tokens.AnyConfigured && LimitedFor() is { } wait)
        {
            return ApiResults.TooManyFailures(Context, wait).ExecuteAsync(Context);
        }
        var presented = !string.IsNullOrEmpty(Request.Headers.Authorization);
        Response.Headers.WWWAuthenticate = presented ? "Bearer realm=\"switchman\", error=\"invalid_token\"" : "Bearer realm=\"switchman\"";
        var message = !tokens.AnyConfigured
            ? "the admin API refuses every request because no token is configured: add one under admin.tokens " +
              $"(name, role: admin or read, and sha256: the output of {AdminTokenHash.HowToHash}; or file: or env:), then restart or reload the node"
            : presented
                ? "the bearer token is not valid on this node"
                : "this endpoint needs a token: send 'Authorization: Bearer <token>'";
        return ApiResults.Error(StatusCodes.Status401Unauthorized, message).ExecuteAsync(Context);
    }

    /// <summary>How long the address must wait, when it is limited; null when this failure is one it had left (a 401).</summary>
    private TimeSpan? LimitedFor()
    {
        var address = Context.Connection.RemoteIpAddress;
        return _newTokenWhileLimited ? limiter.Refuse(address) : limiter.Fail(address);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var who = Context.User.Identity?.Name ?? "this token";
        return ApiResults.Error(StatusCodes.Status403Forbidden, $"token '{who}' has the read role; this endpoint needs an admin token").ExecuteAsync(Context);
    }

    public static string RoleName(AdminRole role) => role == AdminRole.Admin ? AdminPolicies.Admin : AdminPolicies.Read;
}
