using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Sandbox;

namespace TapPass.Core.Tests.Sandbox;

public sealed class ExecutableInspectorTests
{
    [Fact]
    public void Inspect_SystemLs_IsDynamicElfWithExistingLoader()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/ls"))
        {
            return; // the synthetic cases below cover the parser everywhere
        }

        var (kind, interpreter) = ExecutableInspector.Inspect("/bin/ls");

        kind.Should().Be(ExecutableInspector.Kind.DynamicElf);
        interpreter.Should().StartWith("/").And.Contain("ld-");
        File.Exists(interpreter).Should().BeTrue();
    }

    [Fact]
    public void Parse_Elf64LittleEndianWithInterp_ReturnsLoader()
    {
        var file = BuildElf(is64: true, little: true, interp: "/lib64/ld-linux-x86-64.so.2");

        ExecutableInspector.Parse(file).Should().Be((ExecutableInspector.Kind.DynamicElf, "/lib64/ld-linux-x86-64.so.2"));
    }

    [Fact]
    public void Parse_Elf32BigEndianWithInterp_ReturnsLoader()
    {
        var file = BuildElf(is64: false, little: false, interp: "/lib/ld.so.1");

        ExecutableInspector.Parse(file).Should().Be((ExecutableInspector.Kind.DynamicElf, "/lib/ld.so.1"));
    }

    [Fact]
    public void Parse_ElfWithoutInterp_IsStatic()
    {
        var file = BuildElf(is64: true, little: true, interp: null);

        ExecutableInspector.Parse(file).Should().Be((ExecutableInspector.Kind.StaticElf, (string?)null));
    }

    [Fact]
    public void Parse_InterpPointingPastTheEnd_IsUnknown()
    {
        var file = BuildElf(is64: true, little: true, interp: "/lib/ld.so");
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(64 + 56 + 8), 1_000_000); // p_offset of PT_INTERP, the second entry

        ExecutableInspector.Parse(file).Kind.Should().Be(ExecutableInspector.Kind.Unknown);
    }

    [Fact]
    public void Parse_RelativeInterp_IsUnknown()
    {
        var file = BuildElf(is64: true, little: true, interp: "ld.so");

        ExecutableInspector.Parse(file).Kind.Should().Be(ExecutableInspector.Kind.Unknown);
    }

    [Theory]
    [InlineData("#!/bin/sh\necho hi\n", "/bin/sh")]
    [InlineData("#! /usr/bin/env python3\n", "/usr/bin/env")]
    [InlineData("#!/usr/bin/perl -w\r\n", "/usr/bin/perl")]
    public void Parse_Shebang_ReturnsInterpreter(string text, string expected) =>
        ExecutableInspector.Parse(Encoding.UTF8.GetBytes(text)).Should().Be((ExecutableInspector.Kind.Script, expected));

    [Fact]
    public void Parse_ShebangWithoutAbsolutePath_IsScriptWithoutInterpreter() =>
        ExecutableInspector.Parse("#!sh\n"u8).Should().Be((ExecutableInspector.Kind.Script, (string?)null));

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' })]
    [InlineData(new byte[] { (byte)'M', (byte)'Z', 0, 0 })]
    public void Parse_TooShortOrForeign_IsUnknown(byte[] file) =>
        ExecutableInspector.Parse(file).Kind.Should().Be(ExecutableInspector.Kind.Unknown);

    [Fact]
    public void Parse_ArbitraryBytes_NeverThrows()
    {
        Prop.ForAll<byte[]>(bytes =>
        {
            ExecutableInspector.Parse(bytes);
            var elf = new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1 }.Concat(bytes).ToArray();
            ExecutableInspector.Parse(elf);
            var mutated = BuildElf(is64: true, little: true, interp: "/lib/ld.so");
            for (var i = 0; i < bytes.Length && i < mutated.Length; i++)
            {
                mutated[(i * 7) % mutated.Length] ^= bytes[i];
            }

            var (kind, interpreter) = ExecutableInspector.Parse(mutated);
            return kind != ExecutableInspector.Kind.DynamicElf || interpreter!.StartsWith('/');
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>A minimal ELF: header, one PT_LOAD, optionally one PT_INTERP, then the interpreter string.</summary>
    private static byte[] BuildElf(bool is64, bool little, string? interp)
    {
        var headerSize = is64 ? 64 : 52;
        var entrySize = is64 ? 56 : 32;
        var count = interp is null ? 1 : 2;
        var interpBytes = interp is null ? [] : Encoding.ASCII.GetBytes(interp + "\0");
        var interpOffset = headerSize + (count * entrySize);
        var file = new byte[interpOffset + interpBytes.Length + 16];
        file[0] = 0x7f;
        file[1] = (byte)'E';
        file[2] = (byte)'L';
        file[3] = (byte)'F';
        file[4] = (byte)(is64 ? 2 : 1);
        file[5] = (byte)(little ? 1 : 2);
        file[6] = 1;

        void U16(int at, int value)
        {
            if (little)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(at), (ushort)value);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(file.AsSpan(at), (ushort)value);
            }
        }

        void U32(int at, uint value)
        {
            if (little)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(at), value);
            }
        }

        void U64(int at, ulong value)
        {
            if (little)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(at), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt64BigEndian(file.AsSpan(at), value);
            }
        }

        if (is64)
        {
            U64(0x20, (ulong)headerSize);
            U16(0x36, entrySize);
            U16(0x38, count);
        }
        else
        {
            U32(0x1C, (uint)headerSize);
            U16(0x2A, entrySize);
            U16(0x2C, count);
        }

        U32(headerSize, 1); // PT_LOAD
        if (interp is not null)
        {
            var entry = headerSize + entrySize;
            U32(entry, 3); // PT_INTERP
            if (is64)
            {
                U64(entry + 0x08, (ulong)interpOffset);
                U64(entry + 0x20, (ulong)interpBytes.Length);
            }
            else
            {
                U32(entry + 0x04, (uint)interpOffset);
                U32(entry + 0x10, (uint)interpBytes.Length);
            }

            interpBytes.CopyTo(file, interpOffset);
        }

        return file;
    }
}
