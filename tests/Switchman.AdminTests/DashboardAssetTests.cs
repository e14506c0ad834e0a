using System.Net;
using System.Text.Json;
using Switchman.Admin.Dashboard;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>
/// How the dashboard's files are served (the page itself is tested in a browser by Switchman.DashboardTests): open,
/// with a policy that lets no inline or foreign script run, revalidated by ETag; and <c>/api/v1/whoami</c>, which tells
/// the page what its token may do.
/// </summary>
public class DashboardAssetTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _backends.DisposeAsync().AsTask();

    [Fact]
    public async Task Root_SendsABrowserToTheDashboard_FilesAreOpen_WithTheirPolicy_AndRevalidateByETag()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);
        using var noRedirects = node.CreateClient(token: null, new HttpClientHandler { AllowAutoRedirect = false });

        using (var root = await noRedirects.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
            Assert.Equal("/dashboard", root.Headers.Location?.OriginalString);
        }

        foreach (var (path, type) in new[] { ("/dashboard", "text/html"), ("/dashboard/app.js", "text/javascript"), ("/dashboard/app.css", "text/css") })
        {
            using var response = await noRedirects.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(DashboardEndpoints.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
            var etag = response.Headers.ETag ?? throw new Xunit.Sdk.XunitException($"{path} has no ETag");

            using var again = new HttpRequestMessage(HttpMethod.Get, path);
            again.Headers.IfNoneMatch.Add(etag);
            using var revalidated = await noRedirects.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        }

        // The page loads its script and style from this origin only: nothing inline for the policy to have to allow.
        var page = await noRedirects.GetStringAsync("/dashboard");
        Assert.Contains("<script src=\"/dashboard/app.js\" defer></script>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", page, StringComparison.Ordinal);
        Assert.DoesNotContain(" style=", page, StringComparison.Ordinal);
        Assert.DoesNotContain("onclick=", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhoAmI_NamesTheTokenAndItsRole()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);

        foreach (var (client, name, role) in new[] { (node.Admin, "ops", "admin"), (node.Reader, "viewer", "read") })
        {
            var body = JsonDocument.Parse(await client.GetStringAsync("/api/v1/whoami")).RootElement;
            Assert.Equal(name, body.GetProperty("name").GetString());
            Assert.Equal(role, body.GetProperty("role").GetString());
        }
        using var anonymous = await node.Anonymous.GetAsync("/api/v1/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
