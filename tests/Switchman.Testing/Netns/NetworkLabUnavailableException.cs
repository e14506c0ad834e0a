namespace Switchman.Testing.Netns;

/// <summary>
/// The machine cannot host a <see cref="NetworkLab"/>: the message names what is missing (root, iproute2's ip). Thrown
/// rather than skipping the test, so a CI run that lost its privileges fails instead of passing with nothing tested.
/// </summary>
public sealed class NetworkLabUnavailableException : Exception
{
    public NetworkLabUnavailableException()
    {
    }

    public NetworkLabUnavailableException(string message)
        : base(message)
    {
    }

    public NetworkLabUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
