using System.Text;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;

namespace Switchman.AdminTests;

/// <summary>Every endpoint of a node's admin listener, taken from the app's own endpoint table, for tests that walk them all.</summary>
internal static class AdminEndpointTable
{
    /// <summary>Values for route parameters: names that exist on the test node, so a request reaches its handler.</summary>
    private static readonly Dictionary<string, string> RouteValues = new(StringComparer.Ordinal)
    {
        ["backend"] = "api",
        ["server"] = "a",
        ["documentName"] = "v1",
        ["member"] = "n9",
        ["node"] = Environment.MachineName,
        ["service"] = "worker",
    };

    /// <summary>Backend api with server a, and the service <c>worker</c>: every route value above exists.</summary>
    public static SwitchmanConfig Config(DemoBackendServer a) => TestConfig.Single(TestConfig.Server("a", a)) with
    {
        Services = ValueList.Create(new ServiceConfig { Name = "worker", Command = ValueList.Create("/bin/sh", "-c", "echo ready; exec sleep 600") }),
    };

    /// <summary>Every endpoint as (method, path) with its route parameters filled in.</summary>
    public static List<(string Method, string Path)> EndpointsOf(SwitchmanTestNode node)
    {
        var source = node.Services.GetRequiredService<EndpointDataSource>();
        var result = new List<(string, string)>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods)
            {
                result.Add((method, Fill(endpoint.RoutePattern)));
            }
        }
        Assert.True(result.Count >= 14, "the endpoint table looks incomplete: " + string.Join(", ", result));
        return result;
    }

    /// <summary>Sends the request a client of that endpoint would; streams (events) are judged on their headers alone.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            response.Content.Dispose(); // closes the stream
            response.Content = new StringContent("");
        }
        return response;
    }

    private static string Fill(RoutePattern pattern)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternSeparatorPart separator => separator.Content,
                    RoutePatternParameterPart parameter => RouteValues.TryGetValue(parameter.Name, out var value)
                        ? value
                        : throw new InvalidOperationException($"no test value for route parameter '{parameter.Name}' in {pattern.RawText}; add one"),
                    _ => throw new InvalidOperationException($"unexpected route part in {pattern.RawText}"),
                });
            }
        }
        // The root route has no segment at all.
        return path.Length == 0 ? "/" : path.ToString();
    }
}
