namespace Switchman.Vips;

/// <summary>A VIP could not be added, removed or announced on this node; the message names the cause in one line.</summary>
public sealed class VipHostException(string message) : Exception(message);
