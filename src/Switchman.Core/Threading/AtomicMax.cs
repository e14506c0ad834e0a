namespace Switchman.Core.Threading;

/// <summary>Raises a shared value to a new one if it is larger, from any number of threads at once.</summary>
public static class AtomicMax
{
    /// <summary>Sets <paramref name="location"/> to <paramref name="value"/> unless it already holds as much or more.</summary>
    public static void Raise(ref long location, long value)
    {
        var seen = Volatile.Read(ref location);
        while (value > seen)
        {
            var prior = Interlocked.CompareExchange(ref location, value, seen);
            if (prior == seen)
            {
                return;
            }
            seen = prior;
        }
    }
}
