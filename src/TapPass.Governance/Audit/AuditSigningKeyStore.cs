using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace TapPass.Governance.Audit;

/// <summary>Loads the audit signing key from a PEM file, or generates one and persists it with owner-only permissions.</summary>
internal static partial class AuditSigningKeyStore
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Returns the P-256 key stored at <paramref name="path"/>, creating it when the file does not exist.</summary>
    public static ECDsa LoadOrCreate(string path, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(path))
        {
            return Load(path, logger);
        }

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var pem = key.ExportPkcs8PrivateKeyPem();
            var directory = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = OwnerOnly;
            }

            try
            {
                using var stream = new FileStream(path, fileOptions);
                using var writer = new StreamWriter(stream);
                writer.Write(pem);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
                key.Dispose();
                return Load(path, logger);
            }

            LogKeyGenerated(logger, path);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static ECDsa Load(string path, ILogger logger)
    {
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                LogKeyPermissive(logger, path);
            }
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.ExportParameters(includePrivateParameters: false).Curve.Oid?.Value != "1.2.840.10045.3.1.7")
            {
                throw new CryptographicException($"The audit signing key in '{path}' must be an EC P-256 key (ES256).");
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "Generated a new audit signing key at {Path} (owner-only permissions).")]
    private static partial void LogKeyGenerated(ILogger logger, string path);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Audit signing key {Path} is readable or writable by group/others; restrict it to the owner (chmod 600).")]
    private static partial void LogKeyPermissive(ILogger logger, string path);
}
