using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary><c>switchman config get|apply</c> and <c>switchman reload</c> against a running node.</summary>
public sealed class ConfigCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private CliTarget _node = null!;

    public async Task InitializeAsync() => _node = await CliTarget.StartAsync(output);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task ConfigGet_Yaml_PrintsTheConfigurationAndTheRevisionOnStderr()
    {
        var result = await _node.RunAsync("config", "get");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("backends:", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(_node.A.BaseAddress.Authority, result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("switchman: configuration revision 1", result.StandardError, StringComparison.Ordinal);
        // Tokens are declared by hash, and even those stay out of what the API shows.
        Assert.DoesNotContain(TestTokens.AdminToken, result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigDiff_ShowsWhatAReloadOfTheNodesFileWouldUndo_AndChangesNothing()
    {
        var add = await _node.RunAsync("server", "add", "api", "c", _node.A.BaseAddress.Authority);
        Assert.True(add.ExitCode == 0, add.ToString());
        var revision = _node.Node.Revision;

        var diff = await _node.RunAsync("config", "diff");

        Assert.True(diff.ExitCode == 0, diff.ToString());
        Assert.Equal($"dry run: nothing applied; against revision {revision} this would change:", diff.Output[0]);
        Assert.Contains("  backend api changed: server c removed", diff.Output);
        Assert.Equal(revision, _node.Node.Revision);
        Assert.Contains(_node.Node.DataPlane.Config.FindBackend("api")!.Servers, s => s.Name == "c");

        var against = await _node.RunAsync("config", "diff", _node.Node.WriteFile("only-a.yaml", _node.Yaml(servers: "a")));
        Assert.True(against.ExitCode == 0, against.ToString());
        Assert.Contains("  backend api changed: server b removed, server c removed", against.Output);
    }

    [Fact]
    public async Task ConfigGet_Json_PrintsJson()
    {
        var result = await _node.RunAsync("config", "get", "--output", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        Assert.Contains(_node.A.BaseAddress.Authority, result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigApply_DryRun_PrintsTheChangesAndAppliesNothing()
    {
        var file = _node.Node.WriteFile("without-b.yaml", _node.Yaml(servers: "a"));

        var result = await _node.RunAsync("config", "apply", file, "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("dry run: nothing applied; against revision 1 this would change:", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("  backend api changed: server b removed", result.Output);
        Assert.Equal(1, _node.Node.Revision);
        Assert.Equal("ready", (await _node.ServerAsync("b")).State);
    }

    [Fact]
    public async Task ConfigApply_Json_PrintsTheApiAnswer_AndTheNewRevisionRuns()
    {
        var file = _node.Node.WriteFile("without-b.yaml", _node.Yaml(servers: "a"));

        var result = await _node.RunAsync("config", "apply", file, "--if-revision", "1", "--output", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal(2, document.RootElement.GetProperty("revision").GetInt64());
        Assert.Contains("backend api changed: server b removed",
            document.RootElement.GetProperty("changes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(2, _node.Node.Revision);
        Assert.Equal(["a"], _node.Node.DataPlane.Config.FindBackend("api")!.Servers.Select(s => s.Name));
    }

    [Fact]
    public async Task ConfigApply_Invalid_PrintsEveryErrorWithFileLineAndField_Exit1_NothingChanges()
    {
        var yaml = _node.Yaml(rise: "0").Replace("    balance: roundrobin\n", "    balance: roundrobin\n    colour: blue\n", StringComparison.Ordinal);
        var file = _node.Node.WriteFile("broken.yaml", yaml);
        var lines = yaml.Split('\n');
        var riseLine = Array.FindIndex(lines, l => l.TrimStart().StartsWith("rise:", StringComparison.Ordinal)) + 1;
        var colourLine = Array.FindIndex(lines, l => l.TrimStart().StartsWith("colour:", StringComparison.Ordinal)) + 1;

        var result = await _node.RunAsync("config", "apply", file);

        Assert.True(result.ExitCode == 1, result.ToString());
        // The same form as `switchman check`: FILE:line:col path: message, then a count.
        Assert.Contains(result.Error, l => l.StartsWith($"{file}:{riseLine}:", StringComparison.Ordinal) && l.Contains(" backends.api.health.rise: ", StringComparison.Ordinal));
        Assert.Contains(result.Error, l => l.StartsWith($"{file}:{colourLine}:", StringComparison.Ordinal) && l.Contains("colour", StringComparison.Ordinal));
        Assert.Contains("errors: configuration refused", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, _node.Node.Revision);
    }

    [Fact]
    public async Task ConfigApply_StaleRevision_SaysTheRevisionMoved_Exit1()
    {
        var file = _node.Node.WriteFile("without-b.yaml", _node.Yaml(servers: "a"));
        Assert.Equal(0, (await _node.RunAsync("config", "apply", file)).ExitCode);

        var result = await _node.RunAsync("config", "apply", _node.Node.WriteFile("again.yaml", _node.Yaml()), "--if-revision", "1");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("refused: the node runs configuration revision 2, not revision 1 as --if-revision said", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, _node.Node.Revision);
    }

    [Fact]
    public async Task ConfigApply_MissingFile_Exit1()
    {
        var result = await _node.RunAsync("config", "apply", _node.Node.WriteFile("x.yaml", "") + ".missing");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("cannot read", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_ReadsTheNodesFileAgain()
    {
        await File.WriteAllTextAsync(_node.Node.ConfigFile!, _node.Yaml(servers: "a"));

        var result = await _node.RunAsync("reload");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("configuration revision 2 applied:", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("  backend api changed: server b removed", result.Output);
    }

    [Fact]
    public async Task Reload_BrokenFile_PrintsItsErrors_Exit1_OldConfigurationStays()
    {
        await File.WriteAllTextAsync(_node.Node.ConfigFile!, _node.Yaml(rise: "0"));

        var result = await _node.RunAsync("reload");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(result.Error, l => l.Contains("backends.api.health.rise: ", StringComparison.Ordinal));
        Assert.Equal(1, _node.Node.Revision);
    }
}
