namespace Switchman.Supervisor.Processes;

/// <summary>
/// What to run for one service instance on this node. Immutable, with value equality that compares the arguments in
/// order and the environment as a set of pairs, so a configuration change can be compared with what runs: an equal
/// spec needs no restart.
/// </summary>
/// <param name="Name">The service's name; also the name of its record file (<see cref="ProcessRecords"/>), so letters, digits, '.', '_' and '-'.</param>
/// <param name="Argv">The command and its arguments; argv[0] without a '/' is looked up in PATH (the service's PATH, if <paramref name="Environment"/> sets one).</param>
/// <param name="Environment">Added to (or replacing in) the environment this process passes on.</param>
/// <param name="WorkingDirectory">Null: this process's working directory.</param>
/// <param name="User">Null: runs as this process's user. Otherwise a user name (or uid): the service runs with its uid, primary gid and groups.</param>
/// <param name="LogFile">Where the instance's stdout and stderr go, line by line (see <see cref="ServiceLog"/>).</param>
public sealed record ProcessSpec(
    string Name,
    IReadOnlyList<string> Argv,
    IReadOnlyDictionary<string, string> Environment,
    string? WorkingDirectory,
    string? User,
    string LogFile)
{
    public bool Equals(ProcessSpec? other) =>
        other is not null
        && Name == other.Name
        && Argv.SequenceEqual(other.Argv, StringComparer.Ordinal)
        && Environment.Count == other.Environment.Count
        && Environment.All(pair => other.Environment.TryGetValue(pair.Key, out var value) && value == pair.Value)
        && WorkingDirectory == other.WorkingDirectory
        && User == other.User
        && LogFile == other.LogFile;

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name);
        foreach (var argument in Argv)
        {
            hash.Add(argument);
        }
        // Order-independent over the pairs, as the equality is.
        hash.Add(Environment.Aggregate(0, (sum, pair) => sum ^ HashCode.Combine(pair.Key, pair.Value)));
        hash.Add(WorkingDirectory);
        hash.Add(User);
        hash.Add(LogFile);
        return hash.ToHashCode();
    }
}
