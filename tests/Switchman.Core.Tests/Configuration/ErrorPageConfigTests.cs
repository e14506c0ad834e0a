using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Tests.Configuration;

/// <summary>A frontend's <c>error_pages</c> and the access log's <c>query</c>: loading, the rules with their locations, writing them back.</summary>
public sealed class ErrorPageConfigTests
{
    [Fact]
    public void Error_pages_and_an_access_log_without_query_strings_load_and_write_back_the_same()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("503.json"), "{\"error\": \"{status}\"}");
        var yaml = TestConfigs.Minimal(frontendExtra: "error_pages:\n  503: 503.json") + "\naccess_log: { path: stdout, query: false }\n";

        var config = TestConfigs.LoadValid(yaml, dir.Path);

        var page = Assert.Single(config.Frontends[0].ErrorPages);
        Assert.Equal((503, dir.File("503.json")), (page.Status, page.File));
        Assert.Equal(("stdout", false), (config.AccessLog.Path, config.AccessLog.Query));
        Assert.Equal(config, ConfigLoader.LoadYaml(ConfigWriter.ToYaml(config), "written.yaml", dir.Path).Config);
    }

    [Fact]
    public void A_page_for_a_status_that_is_not_an_error_or_a_missing_file_or_a_key_that_is_not_a_status_is_refused_at_its_field()
    {
        using var dir = new TempDirectory();
        var errors = TestConfigs.Load(TestConfigs.Minimal(frontendExtra: "error_pages:\n  200: ok.html\n  503: missing.json\n  oops: x.html"), dir.Path)
            .Errors.Select(e => (e.Path, e.Message)).ToList();

        Assert.Contains(errors, e => e.Path == "frontends.web.error_pages.200" && e.Message == "200 is not an error status: error pages are for 400 to 599");
        Assert.Contains(errors, e => e.Path == "frontends.web.error_pages.503" && e.Message.Contains("missing.json' does not exist", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "frontends.web.error_pages.oops" && e.Message.StartsWith("'oops' is not an HTTP status code", StringComparison.Ordinal));
    }
}
