using Switchman.Supervisor.Processes;

namespace Switchman.Supervisor.Tests;

public sealed class ProcessSpecTests
{
    private static ProcessSpec Spec(string[] argv, Dictionary<string, string> environment) =>
        new("api", argv, environment, "/srv", null, "/var/log/api.log");

    [Fact]
    public void Equals_SameArgumentsAndEnvironmentInOtherCollections_IsEqual()
    {
        var one = Spec(["/usr/bin/api", "--port", "80"], new() { ["A"] = "1", ["B"] = "2" });
        var other = Spec(["/usr/bin/api", "--port", "80"], new() { ["B"] = "2", ["A"] = "1" });

        Assert.Equal(one, other);
        Assert.Equal(one.GetHashCode(), other.GetHashCode());
    }

    [Fact]
    public void Equals_AnArgumentOrAVariableChanged_IsNotEqual()
    {
        var one = Spec(["/usr/bin/api", "--port", "80"], new() { ["A"] = "1" });

        Assert.NotEqual(one, Spec(["/usr/bin/api", "--port", "81"], new() { ["A"] = "1" }));
        Assert.NotEqual(one, Spec(["/usr/bin/api", "--port", "80"], new() { ["A"] = "2" }));
        Assert.NotEqual(one, one with { User = "nobody" });
    }
}
