using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Switchman.Admin.Api;

/// <summary>
/// Describes an endpoint's request body in the OpenAPI document only. The framework's <c>Accepts()</c> would also make
/// routing refuse other content types with an empty 415, while the handlers want to answer every mistake in the
/// API's own JSON error form.
/// </summary>
public sealed record RequestBodyDoc(Type Type, IReadOnlyList<string> ContentTypes);

/// <summary>What the generated OpenAPI document cannot know by itself: request bodies and query parameters read by hand, and the bearer scheme.</summary>
public static class OpenApiDocs
{
    public static RouteHandlerBuilder DocumentsBody<T>(this RouteHandlerBuilder builder, params string[] contentTypes)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new RequestBodyDoc(typeof(T), contentTypes));
    }

    /// <summary>Adds the request body that <see cref="DocumentsBody"/> declared to each operation.</summary>
    public static async Task AddRequestBodyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestBodyDoc>().FirstOrDefault() is not { } body)
        {
            return;
        }
        var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken).ConfigureAwait(false);
        var requestBody = new OpenApiRequestBody { Required = true, Content = new Dictionary<string, OpenApiMediaType>() };
        foreach (var contentType in body.ContentTypes)
        {
            requestBody.Content[contentType] = new OpenApiMediaType { Schema = schema };
        }
        operation.RequestBody = requestBody;
    }

    /// <summary>Lists the query parameters that <see cref="AcceptedQueryRules.AcceptsQuery"/> declared: the only ones the endpoint takes.</summary>
    public static Task AddQueryParametersAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<AcceptedQuery>().LastOrDefault() is not { Parameters.Count: > 0 } accepted)
        {
            return Task.CompletedTask;
        }
        operation.Parameters ??= [];
        foreach (var parameter in accepted.Parameters)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = parameter.Name,
                In = ParameterLocation.Query,
                Description = parameter.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
        return Task.CompletedTask;
    }

    /// <summary>Declares the bearer-token scheme, so generated clients and API browsers know to send a token.</summary>
    public static Task AddBearerSchemeAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            ["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "A token from admin.tokens in the node's configuration. Reads need the read or admin role, changes the admin role.",
            },
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
        return Task.CompletedTask;
    }
}
