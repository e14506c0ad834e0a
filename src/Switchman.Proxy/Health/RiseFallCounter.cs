namespace Switchman.Proxy.Health;

/// <summary>
/// HAProxy's rise/fall rule as a pure state machine: an up server goes down after <c>fall</c> consecutive failed
/// checks, a down server comes up after <c>rise</c> consecutive successful ones. A result that agrees with the current
/// state resets the opposite streak.
/// </summary>
internal sealed class RiseFallCounter
{
    private readonly int _rise;
    private readonly int _fall;
    private int _streak;

    public RiseFallCounter(int rise, int fall, bool initiallyUp)
    {
        _rise = rise;
        _fall = fall;
        IsUp = initiallyUp;
    }

    public bool IsUp { get; private set; }

    /// <summary>Some, but not yet enough, results point the other way: HAProxy's "transition" state, checked at fastinter.</summary>
    public bool InTransition => _streak > 0;

    /// <summary>Consecutive results so far that point away from the current state.</summary>
    public int Streak => _streak;

    /// <summary>Records one check result; returns true when it changed <see cref="IsUp"/>.</summary>
    public bool Record(bool success)
    {
        if (success == IsUp)
        {
            _streak = 0;
            return false;
        }
        _streak++;
        if (_streak >= (IsUp ? _fall : _rise))
        {
            IsUp = !IsUp;
            _streak = 0;
            return true;
        }
        return false;
    }
}
