using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Switchman.Admin.Api.Auth;

namespace Switchman.Admin.Api;

public static class AdminApiServices
{
    /// <summary>Bearer-token authentication, the read/admin policies, the request-rate sampler and the OpenAPI document.</summary>
    public static IServiceCollection AddSwitchmanAdminApi(this IServiceCollection services)
    {
        services.AddSingleton<AdminTokens>();
        services.AddSingleton<AuthFailureLimiter>();
        services.AddSingleton<NodeInfo>();
        services.AddSingleton<RequestRates>();
        services.AddHostedService<RequestRateSampler>();

        // Authentication without AddAuthentication's data protection: the admin API checks bearer tokens only, and the
        // key ring it would set up wrote a key under $HOME/.aspnet at each fresh start, with a warning that it was stored
        // unencrypted (and loaded the XML stack to do it) for nothing that uses it.
        services.AddAuthenticationCore(o => o.DefaultScheme = BearerTokenHandler.SchemeName);
        services.AddWebEncoders();
        new AuthenticationBuilder(services)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, configureOptions: null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicies.Read, policy => policy.RequireAuthenticatedUser().RequireRole(AdminPolicies.Read, AdminPolicies.Admin))
            .AddPolicy(AdminPolicies.Admin, policy => policy.RequireAuthenticatedUser().RequireRole(AdminPolicies.Admin));

        // The OpenAPI document describes the JSON the endpoints write: snake_case, nulls left out.
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminApiJson.Default);
        });
        services.AddOpenApi(o => o
            .AddOperationTransformer(OpenApiDocs.AddRequestBodyAsync)
            .AddOperationTransformer(OpenApiDocs.AddQueryParametersAsync)
            .AddDocumentTransformer(OpenApiDocs.AddBearerSchemeAsync));
        return services;
    }
}
