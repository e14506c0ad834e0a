namespace Switchman.Supervisor.Processes;

/// <summary>
/// A service instance could not be started. The message is one line that names the cause (the executable, the
/// directory, the user): operators read it in status and events.
/// </summary>
public sealed class ServiceStartException(string message) : Exception(message);
