using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Detection;
using static TapPass.Governance.Tests.Detection.FakeSecrets;

namespace TapPass.Governance.Tests.Detection;

public sealed class SecretDetectorTests
{
    private static readonly SecretDetector Detector = new();

    private static List<Finding> Detect(string text)
    {
        var results = new List<Finding>();
        Detector.Detect(text, results);
        return results;
    }

    private static void ShouldFindExactly(string text, params string[] secrets)
    {
        var found = Detect(text);
        found.Select(f => text.Substring(f.Start, f.Length)).Should().Equal(secrets, "in: {0}", text);
        found.Should().OnlyContain(f => f.Type == EntityTypes.Secret && f.Kind != null && f.Score > 0 && f.Score <= 1);
    }

    private static void ShouldFindNothing(string text) =>
        Detect(text).Select(f => $"{f.Kind}:{text.Substring(f.Start, f.Length)}").Should().BeEmpty("in: {0}", text);

    public static TheoryData<string, string> VendorTokens()
    {
        var data = new TheoryData<string, string>();
        foreach (var (kind, token) in FakeSecrets.VendorTokens(11)) data.Add(kind, token);
        return data;
    }

    [Fact]
    public void Detect_UriThenKeyValueConnectionStringOnOneLine_AreTwoSecretsNotOne() =>
        ShouldFindExactly(
            "DATABASE_URL=postgresql://app:S3cr3t-Pa55@db.internal:5432/orders?sslmode=require # prod Server=db1.lan;Database=app;User Id=svc;Password=Hunter2!xyz; then",
            "postgresql://app:S3cr3t-Pa55@db.internal:5432/orders?sslmode=require",
            "Server=db1.lan;Database=app;User Id=svc;Password=Hunter2!xyz;");

    [Fact]
    public void Step_IsDetectSecrets() => Detector.Step.Should().Be("detect_secrets");

    [Fact]
    public void VendorFormats_CoverAtLeastForty() => SecretDetector.VendorFormatCount.Should().BeGreaterThanOrEqualTo(40);

    [Theory]
    [MemberData(nameof(VendorTokens))]
    public void Detect_VendorTokenInProse_ReportsExactSpanAndKind(string kind, string token)
    {
        var text = $"I accidentally pasted {token} into the ticket, please rotate it.";
        var found = Detect(text);
        found.Should().ContainSingle();
        found[0].Start.Should().Be(text.IndexOf(token, StringComparison.Ordinal));
        found[0].Length.Should().Be(token.Length);
        found[0].Kind.Should().Be(kind);
    }

    [Theory]
    [MemberData(nameof(VendorTokens))]
    public void Detect_VendorTokenInConfigContexts_ReportsTheValueOnly(string kind, string token)
    {
        _ = kind;
        ShouldFindExactly($"export API_TOKEN={token}", token);
        ShouldFindExactly($"{{\"credentials\": {{\"key\": \"{token}\"}}}}", token);
        ShouldFindExactly($"token: '{token}'\nregion: eu-west-1", token);
        ShouldFindExactly($"| prod | {token} | rotated |", token);
    }

    [Fact]
    public void Detect_BearerJwt_SpanIsTheTokenWithoutBearer()
    {
        var jwt = Jwt(3);
        ShouldFindExactly($"GET /v1/me HTTP/1.1\nAuthorization: Bearer {jwt}\nAccept: */*", jwt);
        Detect($"Authorization: Bearer {jwt}").Single().Kind.Should().Be("jwt");
    }

    [Fact]
    public void Detect_JwtLookalikeWhoseHeaderIsNotJson_IsNotReported() =>
        ShouldFindNothing("eyJ" + Random(30, B64Url, 1) + "." + Random(40, B64Url, 2) + "." + Random(43, B64Url, 3));

    [Theory]
    [InlineData("RSA PRIVATE KEY")]
    [InlineData("EC PRIVATE KEY")]
    [InlineData("OPENSSH PRIVATE KEY")]
    [InlineData("ENCRYPTED PRIVATE KEY")]
    [InlineData("PRIVATE KEY")]
    [InlineData("DSA PRIVATE KEY")]
    [InlineData("PGP PRIVATE KEY BLOCK")]
    public void Detect_PemPrivateKey_SpansBeginThroughEndLine(string label)
    {
        var key = Pem(label, "\n", 5);
        ShouldFindExactly($"deploy_key: |\n{key}\nnext: value", key);
        Detect(key).Single().Kind.Should().Be("private_key");
    }

    [Fact]
    public void Detect_PemWithEscapedNewlinesInJson_EscapesAreInsideTheSpan()
    {
        var key = Pem("PRIVATE KEY", "\\n", 8);
        ShouldFindExactly($"{{\"type\": \"service_account\", \"private_key\": \"{key}\", \"client_id\": \"1\"}}", key);
    }

    [Fact]
    public void Detect_TruncatedPemWithoutEndLine_CoversHeaderAndBody()
    {
        var full = Pem("RSA PRIVATE KEY", "\n", 9);
        var truncated = full[..full.IndexOf("-----END", StringComparison.Ordinal)].TrimEnd();
        ShouldFindExactly("key:\n" + truncated, truncated);
    }

    [Theory]
    [InlineData("PUBLIC KEY")]
    [InlineData("CERTIFICATE")]
    [InlineData("CERTIFICATE REQUEST")]
    [InlineData("RSA PUBLIC KEY")]
    [InlineData("PGP PUBLIC KEY BLOCK")]
    public void Detect_PublicKeysCertificatesAndCsrs_AreNotSecrets(string label) => ShouldFindNothing("CA bundle:\n" + Pem(label, "\n", 4));

    [Theory]
    [InlineData("postgres")]
    [InlineData("postgresql")]
    [InlineData("mysql")]
    [InlineData("mongodb")]
    [InlineData("mongodb+srv")]
    [InlineData("redis")]
    [InlineData("rediss")]
    [InlineData("amqp")]
    [InlineData("mssql")]
    [InlineData("ftp")]
    [InlineData("smtp")]
    public void Detect_UriConnectionString_WholeUriIsTheSpan(string scheme)
    {
        var uri = $"{scheme}://svc_app:{Random(14, Alnum, 4)}!x@db7.internal.example:5432/orders?sslmode=require";
        ShouldFindExactly($"DATABASE_URL={uri}", uri);
        ShouldFindExactly($"It connects with {uri}, then times out.", uri);
        ShouldFindExactly($"\"conn\": \"{uri}\",", uri);
    }

    [Fact]
    public void Detect_JdbcUrlWithPasswordParameter_WholeUriIsTheSpan()
    {
        var uri = "jdbc:postgresql://db.internal:5432/app?user=svc&password=" + Random(12, Alnum, 6);
        ShouldFindExactly($"spring.datasource.url={uri}", uri);
    }

    [Theory]
    [InlineData("Server=sql1.corp.local;Database=Sales;User Id=sa;Password={0};")]
    [InlineData("Data Source=sql1.corp.local;Initial Catalog=Orders;User ID=app;Password={0};Encrypt=True")]
    [InlineData("Host=pg.corp.local;Port=5432;Username=app;Pwd={0}")]
    [InlineData("Driver={{ODBC Driver 18 for SQL Server}};Server=sql1;Uid=reporter;Pwd={0};")]
    public void Detect_AdoConnectionString_SpansFirstKeyToLastCharacter(string template)
    {
        var cs = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, Random(14, Alnum, 8) + "#");
        ShouldFindExactly($"\"DefaultConnection\": \"{cs}\"", cs);
        ShouldFindExactly($"Find the bug: my app connects with {cs} but times out.", cs);
        ShouldFindExactly($"ConnectionStrings__Main={cs}", cs);
    }

    [Fact]
    public void Detect_AzureStorageConnectionString_WholeStringIsTheSpan()
    {
        var cs = $"DefaultEndpointsProtocol=https;AccountName=store1;AccountKey={Random(86, B64, 2)}==;EndpointSuffix=core.windows.net";
        ShouldFindExactly($"AZURE_STORAGE_CONNECTION_STRING={cs}", cs);
    }

    [Fact]
    public void Detect_ConnectionStringWithoutPassword_IsNotReported()
    {
        ShouldFindNothing("Server=localhost;Database=Sales;Trusted_Connection=True;");
        ShouldFindNothing("jdbc:postgresql://localhost:5432/app");
        ShouldFindNothing("postgres://user:${DB_PASSWORD}@localhost/db");
        ShouldFindNothing("Clone https://user@github.com/org/repo.git");
    }

    [Theory]
    [InlineData("DB_PASSWORD={0}")]
    [InlineData("password = \"{0}\"")]
    [InlineData("  password: {0}\n  user: app")]
    [InlineData("{{ \"Smtp\": {{ \"User\": \"ops\", \"Password\": \"{0}\" }} }}")]
    [InlineData("mysql -u root -p'{0}' production")]
    [InlineData("mysql -uroot -p{0} production")]
    [InlineData("the password is {0}")]
    [InlineData("Het wachtwoord voor de gedeelde map is {0}, niet doorsturen.")]
    [InlineData("Le mot de passe est {0} pour le wifi.")]
    [InlineData("Das Root-Passwort für grafana3.example.lan lautet {0}.")]
    [InlineData("Kennwort: {0}")]
    [InlineData("La contraseña es {0}")]
    [InlineData("<password>{0}</password>")]
    [InlineData("CREATE USER app IDENTIFIED BY '{0}';")]
    [InlineData("ALTER ROLE app WITH PASSWORD '{0}';")]
    [InlineData("pwd: {0}")]
    [InlineData("passwd={0}")]
    [InlineData("--password={0}")]
    [InlineData("fyi the demo account is ops@example.org / pw {0}")]
    [InlineData("client.login(\"tess.bos\", \"{0}\")")]
    [InlineData("requests.get(url, auth=(\"admin\", \"{0}\"))")]
    [InlineData("MYSQL_ROOT_PASSWORD={0}")]
    public void Detect_PasswordInAssignmentOrProse_ValueOnly(string template)
    {
        foreach (var pw in new[] { "Summer2024!", "F+nIrDLhqjy^PW", "Tulip205_x" })
        {
            var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, pw);
            ShouldFindExactly(text, pw);
        }
    }

    [Fact]
    public void Detect_AwsSecretAccessKeyInKeyContext_IsReported()
    {
        var id = "AKIA" + Random(16, Upper, 4);
        var secret = Random(40, B64, 5);
        var found = Detect($"[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = eu-west-3");
        found.Select(f => f.Kind).Should().Equal("aws_access_key", "aws_secret_key");
    }

    [Fact]
    public void Detect_HighEntropyValueBehindSecretKeyword_IsReported()
    {
        var v = Random(32, Alnum, 21);
        ShouldFindExactly($"client_secret = \"{v}\"", v);
        ShouldFindExactly($"X-Api-Key: {v}", v);
        ShouldFindExactly($"\"access_token\": \"{v}\"", v);
    }

    [Fact]
    public void Detect_BasicAuthHeader_ReportsTheCredential()
    {
        var b64 = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("admin:" + Random(12, Alnum, 2)));
        ShouldFindExactly($"Authorization: Basic {b64}", b64);
    }

    [Theory]
    [InlineData("API_KEY=YOUR_API_KEY_HERE")]
    [InlineData("Set OPENAI_API_KEY=<your-api-key> before running.")]
    [InlineData("token: ${GITHUB_TOKEN}")]
    [InlineData("password: {{ secrets.DB_PASSWORD }}")]
    [InlineData("DB_PASSWORD=env('DB_PASSWORD')")]
    [InlineData("const key = process.env.STRIPE_SECRET_KEY;")]
    [InlineData("password = os.environ['PASSWORD']")]
    [InlineData("password: \"********\"")]
    [InlineData("DB_PASSWORD='*****'")]
    [InlineData("password: \"\"")]
    [InlineData("DB_PASSWORD=vault:secret/data/db#password")]
    [InlineData("export PGPASSWORD=$DB_PASS")]
    [InlineData("Authorization: Bearer sk_live_************************")]
    [InlineData("API_KEY=sk-proj-...")]
    [InlineData("Replace xoxb-xxxxxxxx with the key from your dashboard.")]
    [InlineData("Replace ${STRIPE_SECRET} with the key from your dashboard.")]
    [InlineData("Bearer <token>")]
    [InlineData("user_pass = '%s:%s' % (user, password)")]
    [InlineData("rep += f\"\\tpassword {attrs[2]}\\n\"")]
    public void Detect_PlaceholdersAndReferences_AreNotSecrets(string text) => ShouldFindNothing(text);

    [Fact]
    public void Detect_KnownPrefixFollowedByOneRepeatedCharacter_IsAPlaceholder()
    {
        ShouldFindNothing("Use sk_live_" + new string('x', 24) + " in production.");
        ShouldFindNothing("API_KEY=ghp_" + new string('X', 36));
        ShouldFindNothing("Authorization: Bearer npm_" + new string('X', 36));
        ShouldFindNothing("AKIA" + new string('0', 16));
    }

    [Theory]
    [InlineData("The AWS guide uses AKIAIOSFODNN7EXAMPLE as an example.")]
    [InlineData("aws_secret_access_key = AKIAIOSFODNN7EXAMPLE  # docs sample")]
    [InlineData("The AWS guide uses wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY as an example.")]
    [InlineData("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    [InlineData("aws_access_key_id = AKIAI44QH8DHBEXAMPLE")]
    public void Detect_AwsDocumentationExampleKeys_AreNotSecrets(string text) => ShouldFindNothing(text);

    [Fact]
    public void Detect_StripePublishableKeys_AreNotSecrets()
    {
        ShouldFindNothing($"Stripe.js init: Stripe('pk_live_{Random(24, Alnum, 1)}')");
        ShouldFindNothing($"STRIPE_PUBLISHABLE_KEY=pk_test_{Random(24, Alnum, 2)}");
    }

    [Fact]
    public void Detect_HashesShasUuidsAndImages_AreNotSecrets()
    {
        ShouldFindNothing("etag: \"" + Random(40, Hex, 1) + "\"");
        ShouldFindNothing("Merged " + Random(40, Hex, 2) + " into main.");
        ShouldFindNothing("Bisect points at 125e72e.");
        ShouldFindNothing("sha256: " + Random(64, Hex, 3));
        ShouldFindNothing("Correlation-Id: 841f104e-c821-08cc-eb0d-649a2195034b");
        ShouldFindNothing("token_id: 947ade9c-cf99-da93-63e1-63c4ee8f2aac");
        ShouldFindNothing("thumbnail: data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ" + Random(120, B64, 4));
        ShouldFindNothing("password_hash = '$2b$12$" + Random(53, Alnum + "./", 5) + "'");
        ShouldFindNothing("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ" + Random(300, B64, 6) + " ops@host");
        ShouldFindNothing("PUBLIC_KEY=" + Random(44, B64, 7));
    }

    [Theory]
    [InlineData("Your password must have 12 characters.")]
    [InlineData("Forgot your password? Click reset.")]
    [InlineData("The token expired yesterday.")]
    [InlineData("Token issued at 1697315590 (unix).")]
    [InlineData("The secret to good bread is patience.")]
    [InlineData("If the password is wrong, the login fails.")]
    [InlineData("Pass follow_symlinks=False, unless needed.")]
    [InlineData("or pass 'ignore' to ignore encoding errors")]
    [InlineData("Pass `-Dpamconfdir=no` to meson.")]
    [InlineData("the password is incorrect")]
    [InlineData("Our product TapPass is silent here.")]
    [InlineData("cache_key = 'user:1234:profile'")]
    [InlineData("max_tokens: 4096")]
    [InlineData("git checkout -b feature/token-refresh")]
    [InlineData("npm_config_cache=/tmp/npm")]
    [InlineData("PWD=/home/ops/project")]
    [InlineData("password = getPassword()")]
    [InlineData("user.password = hashed")]
    public void Detect_OrdinaryTextAndCode_IsNotASecret(string text) => ShouldFindNothing(text);

    [Fact]
    public void Detect_SecretsInsideOneConnectionString_ReportedOnceAsTheOuterString()
    {
        var cs = $"mongodb://app:{Random(12, Alnum, 3)}@mongo1.internal:27017/logs?authSource=admin&password=also";
        var found = Detect(cs);
        found.Should().ContainSingle().Which.Length.Should().Be(cs.Length);
    }

    [Fact]
    public void Detect_SeveralSecrets_AllReportedInOrder()
    {
        var openai = "sk-proj-" + Random(40, B64Url, 1) + "T3BlbkFJ" + Random(40, B64Url, 2);
        var anthropic = "sk-ant-api03-" + Random(90, B64Url, 3);
        var text = $"OPENAI_API_KEY={openai}\nANTHROPIC_API_KEY={anthropic}\n";
        ShouldFindExactly(text, openai, anthropic);
    }

    [Fact]
    public void Detect_EmptyShortAndNullInput_AreHandled()
    {
        Detect("").Should().BeEmpty();
        Detect("pw").Should().BeEmpty();
        var act = () => Detector.Detect(null!, []);
        act.Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Detect_HostileRepetition_CompletesWithoutFindings()
    {
        ShouldFindNothing(string.Concat(Enumerable.Repeat("password= ", 20_000)));
        ShouldFindNothing(string.Concat(Enumerable.Repeat("-----BEGIN RSA PRIVATE KEY-----", 2_000)));
        ShouldFindNothing(new string('a', 500_000));
        ShouldFindNothing(string.Concat(Enumerable.Repeat("postgres://", 20_000)));
    }

    [Fact]
    public void Detect_AppendsWithoutClearingExistingResults()
    {
        var results = new List<Finding> { new(EntityTypes.Email, 0, 1) };
        Detector.Detect("token: npm_" + Random(36, Alnum, 5), results);
        results.Should().HaveCount(2);
        results[0].Type.Should().Be(EntityTypes.Email);
    }

    private static readonly string[] Words =
    [
        "the", "quarterly", "report", "is", "ready", "please", "review", "before", "Friday", "and", "send", "feedback", "to",
        "team", "our", "deployment", "moved", "staging", "customer", "asked", "about", "invoice", "numbers", "we", "will",
        "meet", "tomorrow", "at", "noon", "in", "Ghent", "café", "résumé", "naïve", "Zoë", "🙂", "—", "(draft)", "v2", "OK,",
    ];

    private static Gen<string> Prose() =>
        Gen.ListOf(Gen.Elements(Words)).Select(ws => string.Join(' ', ws));

    [Fact]
    public void Property_SecretInsertedIntoRandomProse_IsFoundAtExactlyItsSpan()
    {
        var tokens = FakeSecrets.VendorTokens(77).Select(t => t.Token)
            .Concat([Pem("EC PRIVATE KEY", "\n", 3), $"postgresql://app:{Random(12, Alnum, 5)}@db:5432/x"]).ToArray();
        var gen =
            from before in Prose()
            from after in Prose()
            from token in Gen.Elements(tokens)
            select (before, token, after);

        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var text = t.before + " " + t.token + " " + t.after;
            var found = Detect(text);
            return found.Count == 1 && found[0].Start == t.before.Length + 1 && found[0].Length == t.token.Length;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Property_RandomBenignProse_HasNoSecrets() =>
        Prop.ForAll(Prose().ToArbitrary(), text => Detect(text).Count == 0).QuickCheckThrowOnFailure();

    [Fact]
    public void Property_PasswordAssignmentWithRandomValue_ValueIsTheSpan()
    {
        var gen =
            from n in Gen.Choose(8, 24)
            from seed in Gen.Choose(1, 100_000)
            from form in Gen.Elements("PASSWORD={0}", "password: \"{0}\"", "\"Password\": \"{0}\"", "the password is {0}")
            // A digit and a symbol are always present: a letters-only value after PASSWORD= is read as code by design.
            select (form, value: Random(n - 2, Alnum + "!#^*", seed) + (char)('0' + seed % 10) + "!#^*"[seed % 4]);

        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, t.form, t.value);
            var found = Detect(text);
            return found.Count == 1 && text.Substring(found[0].Start, found[0].Length) == t.value;
        }).QuickCheckThrowOnFailure();
    }
}
