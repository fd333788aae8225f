using System.Text;

namespace TapPass.Server.Cli;

/// <summary>
/// Reads lines from a <see cref="TextReader"/> without ever holding more than a bounded line in memory:
/// a line longer than the limit is skipped to its end and reported as too long.
/// </summary>
internal sealed class BoundedLineReader
{
    private readonly TextReader _reader;
    private readonly int _maxChars;
    private readonly char[] _buffer = new char[16 * 1024];
    private readonly StringBuilder _line = new();
    private int _pos;
    private int _len;

    public BoundedLineReader(TextReader reader, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChars);
        _reader = reader;
        _maxChars = maxChars;
    }

    /// <summary>Whether input is already buffered, so the next read will not wait for the source.</summary>
    public bool HasBufferedInput => _pos < _len;

    /// <summary>A line: <see cref="Text"/> is null when the line was longer than the limit.</summary>
    internal readonly record struct Line(string? Text, bool EndOfInput);

    /// <summary>Reads the next line (without its <c>\n</c> or <c>\r\n</c>).</summary>
    public async ValueTask<Line> ReadLineAsync(CancellationToken cancellationToken)
    {
        _line.Clear();
        bool tooLong = false;
        bool any = false;
        while (true)
        {
            if (_pos == _len)
            {
                _len = await _reader.ReadAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                _pos = 0;
                if (_len == 0)
                {
                    return any ? Finish(tooLong) : new Line(null, EndOfInput: true);
                }
            }

            any = true;
            int nl = Array.IndexOf(_buffer, '\n', _pos, _len - _pos);
            int end = nl < 0 ? _len : nl;
            if (!tooLong)
            {
                if (_line.Length + (end - _pos) > _maxChars)
                {
                    tooLong = true;
                    _line.Clear();
                }
                else
                {
                    _line.Append(_buffer, _pos, end - _pos);
                }
            }

            if (nl >= 0)
            {
                _pos = nl + 1;
                return Finish(tooLong);
            }

            _pos = _len;
        }
    }

    private Line Finish(bool tooLong)
    {
        if (tooLong)
        {
            _line.Clear();
            return new Line(null, EndOfInput: false);
        }

        if (_line.Length > 0 && _line[^1] == '\r')
        {
            _line.Length--;
        }

        string text = _line.ToString();
        if (_line.Capacity > 1 << 20)
        {
            _line.Clear();
            _line.Capacity = 1024;
        }

        return new Line(text, EndOfInput: false);
    }
}
