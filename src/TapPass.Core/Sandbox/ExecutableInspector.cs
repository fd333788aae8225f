using System.Buffers.Binary;
using System.Text;

namespace TapPass.Sandbox;

/// <summary>
/// Finds what the kernel opens for execution besides a program itself: the ELF interpreter
/// (<c>PT_INTERP</c>, the dynamic loader) or a script's <c>#!</c> interpreter. Landlock checks the
/// execute right on both, so the sandbox must grant it on both.
/// </summary>
internal static class ExecutableInspector
{
    /// <summary>How much of a file is inspected; real program headers and <c>PT_INTERP</c> lie in the first few kilobytes.</summary>
    internal const int HeaderWindow = 64 * 1024;

    private const uint PtInterp = 3;
    private const int MaxInterpreterLength = 4096;
    private const int MaxShebangLine = 256; // the kernel's BINPRM_BUF_SIZE

    /// <summary>The kind of executable.</summary>
    internal enum Kind
    {
        /// <summary>An ELF file with no interpreter (statically linked).</summary>
        StaticElf,

        /// <summary>An ELF file with a <c>PT_INTERP</c> dynamic loader.</summary>
        DynamicElf,

        /// <summary>A <c>#!</c> script.</summary>
        Script,

        /// <summary>Not recognised (or malformed).</summary>
        Unknown,
    }

    /// <summary>Reads the start of <paramref name="path"/> and returns its kind and interpreter.</summary>
    internal static (Kind Kind, string? Interpreter) Inspect(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
        var buffer = new byte[(int)Math.Min(HeaderWindow, Math.Max(stream.Length, 0))];
        stream.ReadExactly(buffer);
        return Parse(buffer);
    }

    /// <summary>Parses the first bytes of an executable. Never throws on malformed input.</summary>
    internal static (Kind Kind, string? Interpreter) Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length >= 2 && file[0] == (byte)'#' && file[1] == (byte)'!')
        {
            return ParseShebang(file);
        }

        if (file.Length >= 16 && file[0] == 0x7f && file[1] == (byte)'E' && file[2] == (byte)'L' && file[3] == (byte)'F')
        {
            return ParseElf(file);
        }

        return (Kind.Unknown, null);
    }

    private static (Kind, string?) ParseShebang(ReadOnlySpan<byte> file)
    {
        var line = file[2..Math.Min(file.Length, MaxShebangLine)];
        var end = line.IndexOf((byte)'\n');
        if (end >= 0)
        {
            line = line[..end];
        }

        line = line.TrimStart(" \t"u8);
        var stop = line.IndexOfAny(" \t\r"u8);
        if (stop >= 0)
        {
            line = line[..stop];
        }

        if (line.IsEmpty || line[0] != (byte)'/')
        {
            return (Kind.Script, null);
        }

        return (Kind.Script, Encoding.UTF8.GetString(line));
    }

    private static (Kind, string?) ParseElf(ReadOnlySpan<byte> file)
    {
        var is64 = file[4] switch
        {
            1 => false,
            2 => true,
            _ => (bool?)null,
        };
        var little = file[5] switch
        {
            1 => true,
            2 => false,
            _ => (bool?)null,
        };
        if (is64 is null || little is null)
        {
            return (Kind.Unknown, null);
        }

        var headerSize = is64.Value ? 64 : 52;
        if (file.Length < headerSize)
        {
            return (Kind.Unknown, null);
        }

        ulong phoff = is64.Value ? U64(file, 0x20, little.Value) : U32(file, 0x1C, little.Value);
        int phentsize = U16(file, is64.Value ? 0x36 : 0x2A, little.Value);
        int phnum = U16(file, is64.Value ? 0x38 : 0x2C, little.Value);
        var minimumEntry = is64.Value ? 56 : 32;
        if (phnum == 0)
        {
            return (Kind.StaticElf, null);
        }

        if (phentsize < minimumEntry || phoff > (ulong)file.Length)
        {
            return (Kind.Unknown, null);
        }

        for (var i = 0; i < phnum; i++)
        {
            var offset = phoff + ((ulong)i * (ulong)phentsize);
            if (offset + (ulong)minimumEntry > (ulong)file.Length)
            {
                return (Kind.Unknown, null);
            }

            var entry = file.Slice((int)offset, minimumEntry);
            if (U32(entry, 0, little.Value) != PtInterp)
            {
                continue;
            }

            ulong interpOffset = is64.Value ? U64(entry, 0x08, little.Value) : U32(entry, 0x04, little.Value);
            ulong interpSize = is64.Value ? U64(entry, 0x20, little.Value) : U32(entry, 0x10, little.Value);
            if (interpSize == 0 || interpSize > MaxInterpreterLength || interpOffset > (ulong)file.Length
                || interpOffset + interpSize > (ulong)file.Length)
            {
                return (Kind.Unknown, null);
            }

            var text = file.Slice((int)interpOffset, (int)interpSize);
            var nul = text.IndexOf((byte)0);
            if (nul >= 0)
            {
                text = text[..nul];
            }

            if (text.IsEmpty || text[0] != (byte)'/')
            {
                return (Kind.Unknown, null);
            }

            return (Kind.DynamicElf, Encoding.UTF8.GetString(text));
        }

        return (Kind.StaticElf, null);
    }

    private static ushort U16(ReadOnlySpan<byte> data, int offset, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(data[offset..]) : BinaryPrimitives.ReadUInt16BigEndian(data[offset..]);

    private static uint U32(ReadOnlySpan<byte> data, int offset, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]) : BinaryPrimitives.ReadUInt32BigEndian(data[offset..]);

    private static ulong U64(ReadOnlySpan<byte> data, int offset, bool little) =>
        little ? BinaryPrimitives.ReadUInt64LittleEndian(data[offset..]) : BinaryPrimitives.ReadUInt64BigEndian(data[offset..]);
}
