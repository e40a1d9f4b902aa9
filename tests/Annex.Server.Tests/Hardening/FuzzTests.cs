using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Hardening;

/// <summary>
/// Sends 10,000 malformed requests, spread over every endpoint in the routing table: bodies (valid ones
/// with fields replaced, removed, retyped or cut short, bytes that are not UTF-8 or not JSON), headers
/// (content types, API keys, idempotency keys, ranges) and URLs (uids, limits, cursors, orderings). No
/// answer is a 5xx, every refusal is a JSON error, and no refused request changes a row.
/// The server runs with the API role only, so no worker changes rows between two snapshots.
/// </summary>
public sealed class FuzzTests : IDisposable
{
    private const int Requests = 10_000;
    private const int Seed = 20261204;

    private readonly AnnexFactory _factory = new(settings: new Dictionary<string, string?>(TenantObjects.ServerSettings) { ["Server:Role"] = "Api" });

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Ten_thousand_malformed_requests_get_no_5xx_and_refusals_change_nothing()
    {
        var tenant = await _factory.CreateTenantAsync();
        var world = await World.CreateAsync(tenant.Http, tenant.Key.Key);
        var endpoints = EndpointCatalog.ApiEndpoints(_factory.Services);
        var random = new Random(Seed);
        var snapshot = await DatabaseSnapshot.TakeAsync(_factory.Services);
        var statuses = new SortedDictionary<int, int>();
        var failures = new List<string>();
        var acceptedWrites = 0;

        for (var i = 0; i < Requests && failures.Count < 10; i++)
        {
            var endpoint = endpoints[i % endpoints.Count];
            var fuzzed = new RequestFuzzer(random, world).Make(endpoint);
            using var request = fuzzed.ToMessage();
            HttpResponseMessage response;
            try
            {
                response = await tenant.Http.SendAsync(request);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failures.Add($"#{i} {fuzzed}: the request threw {ex.GetType().Name}: {ex.Message}");
                continue;
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                var body = await response.Content.ReadAsStringAsync();
                if (status >= 500)
                {
                    failures.Add($"#{i} {fuzzed}: {status} {Shorten(body)}");
                    continue;
                }

                var after = await DatabaseSnapshot.TakeAsync(_factory.Services);
                if (status >= 400)
                {
                    if (status == 416)
                    {
                        // Range downloads answer as HTTP says: no body, the size in Content-Range.
                        if (response.Content.Headers.ContentRange is not { Unit: "bytes", HasLength: true })
                        {
                            failures.Add($"#{i} {fuzzed}: 416 without Content-Range: bytes */size");
                        }
                    }
                    else if (!IsJsonError(body))
                    {
                        failures.Add($"#{i} {fuzzed}: {status} without a JSON error: {Shorten(body)}");
                    }

                    var changed = after.DifferencesFrom(snapshot);
                    if (changed.Count > 0)
                    {
                        failures.Add($"#{i} {fuzzed}: refused with {status} but changed {string.Join(", ", changed)}");
                    }
                }
                else if (after.DifferencesFrom(snapshot).Count > 0)
                {
                    acceptedWrites++;
                }

                snapshot = after;
            }
        }

        Assert.True(failures.Count == 0, $"seed {Seed}:\n" + string.Join("\n", failures));

        // The fuzz reaches the handlers rather than stopping at one gate: refusals of several kinds, and some
        // requests that survive their mutation.
        Assert.True(statuses.Keys.Count(s => s >= 400) >= 5, "statuses: " + string.Join(", ", statuses));
        Assert.True(statuses.Where(s => s.Key < 300).Sum(s => s.Value) > 100, "statuses: " + string.Join(", ", statuses));
        Assert.True(acceptedWrites > 100, $"only {acceptedWrites} accepted requests changed the snapshot, so it may not see writes");
        Assert.True(statuses.GetValueOrDefault(400) > Requests / 8, "statuses: " + string.Join(", ", statuses));
    }

    private static bool IsJsonError(string body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject { Count: > 0 };
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";

    /// <summary>The objects the fuzzed requests point at: the tenant's own, so refusals come from the input.</summary>
    private sealed record World(string ApiKey, TenantObjects Objects)
    {
        private List<string> Items => Objects.Items;

        private string Dataset => Objects.Dataset;

        private string Project => Objects.Project;

        private string Slice => Objects.Slice;

        public static async Task<World> CreateAsync(HttpClient http, string apiKey) => new(apiKey, await TenantObjects.CreateAsync(http, waitForExport: false));

        public string UidFor(ApiEndpoint endpoint, string parameter) => Objects.UidFor(endpoint, parameter);

        /// <summary>A body the endpoint accepts, which the fuzzer then spoils.</summary>
        public JsonNode? ValidBody(ApiEndpoint endpoint) => (endpoint.Method, endpoint.Template) switch
        {
            ("POST", "/api/v1/datasets") => Node(new { name = "fuzz" }),
            ("POST", "/api/v1/datasets/{uid}/items") => Node(new
            {
                items = new object[]
                {
                    new { ref_id = "fuzz", width = 640, height = 480, metadata = new { split = "train", n = 1 }, media_url = "https://example.com/a.jpg" },
                },
            }),
            ("POST", "/api/v1/projects") => Node(new
            {
                name = "fuzz",
                labels = new object[] { new { name = "car", color = "#FF0000" }, new { name = "person", color = "#00FF00", keypoints = new[] { "a", "b" }, skeleton = new[] { new[] { 1, 2 } } } },
            }),
            ("POST", "/api/v1/projects/{projectUid}/results") => Node(new
            {
                results = new object[]
                {
                    new
                    {
                        dataset_item_uid = Items[1],
                        annotations = new object[]
                        {
                            new { label = "car", type = "bounding_box", coordinates = new { x = 1, y = 2, width = 3, height = 4, rotation = 0.5 }, attributes = new { occluded = true } },
                            new { label = "car", type = "polygon", coordinates = new { vertices = new[] { new[] { 0, 0 }, new[] { 5, 0 }, new[] { 5, 5 } } } },
                            new { label = "car", type = "polyline", coordinates = new { vertices = new[] { new[] { 0, 0 }, new[] { 5, 5 } } } },
                            new { label = "person", type = "keypoints", coordinates = new { points = new object[] { new { x = 1, y = 1, label = "head", visible = true } } } },
                            new { label = "car", type = "classification", coordinates = (object?)null },
                            new
                            {
                                label = "car", type = "cuboid",
                                coordinates = new { center = new { x = 0, y = 0, z = 0 }, dimensions = new { length = 1, width = 1, height = 1 }, rotation = new { yaw = 0, pitch = 0, roll = 0 } },
                            },
                        },
                    },
                },
            }),
            ("POST", "/api/v1/slices") => Node(new { name = "fuzz", items = Items, sub_slices = new[] { new { type = "dataset", dataset_uid = Dataset } }, visibility = "public", random_selection_count = 2 }),
            ("POST", "/api/v1/datasets/manual-upload/file-upload-url") => Node(new { dataset_name = "fuzz", file_path_in_dataset = "a/b.png", content_length = 1000 }),
            ("POST", "/api/v1/datasets/manual-upload") => Node(new { name = "Uploaded", slug = "uploaded", data_type = "image", visibility = "private", create_metadata = true }),
            ("POST", "/api/v1/exports" or "/api/v1/exports/preview") => Node(new { name = "fuzz", format = "YOLO", datasets = new[] { Dataset }, projects = new[] { Project }, slices = new[] { Slice }, filter_query_string = "label = \"car\" AND metadata.n > 0" }),
            ("POST", "/api/v1/webhooks") => Node(new { url = "http://127.0.0.1:9/fuzz", events = new[] { "export.completed", "export.failed" }, secret = "s" }),
            ("POST", "/api/v1/api-keys") => Node(new { name = "fuzz", scopes = new[] { "exports.read" }, expires_at = "2099-01-01T00:00:00Z" }),
            ("PATCH", "/api/v1/webhooks/{uid}") => Node(new { target_url = "http://127.0.0.1:9/fuzz", events = new[] { "export.failed" }, is_active = false, secret = "t" }),
            ("POST", _) => new JsonObject(),
            _ => null,
        };

        private static JsonNode Node(object value) => JsonSerializer.SerializeToNode(value)!;
    }

    /// <summary>One request, kept as data so a failure can print it.</summary>
    private sealed record FuzzedRequest(string Method, string Url, byte[]? Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers, string Mutation)
    {
        public HttpRequestMessage ToMessage()
        {
            var message = new HttpRequestMessage(new HttpMethod(Method), Url);
            if (Body is not null)
            {
                message.Content = new ByteArrayContent(Body);
                if (ContentType is not null)
                {
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            foreach (var (name, value) in Headers)
            {
                if (name.Equals("X-Avala-Api-Key", StringComparison.OrdinalIgnoreCase))
                {
                    message.Headers.Remove(name);
                }

                message.Headers.TryAddWithoutValidation(name, value);
            }

            return message;
        }

        public override string ToString()
        {
            var body = Body is null ? string.Empty : " body " + (Body.Length > 200 ? Encoding.UTF8.GetString(Body, 0, 200) + "..." : Encoding.UTF8.GetString(Body));
            return $"{Method} {(Url.Length > 200 ? Url[..200] + "..." : Url)} [{Mutation}] content-type {ContentType ?? "-"} headers {string.Join("; ", Headers.Select(h => $"{h.Name}: {h.Value}"))}{body}";
        }
    }

    private sealed class RequestFuzzer(Random random, World world)
    {
        private static readonly string[] WeirdTexts =
        [
            string.Empty, " ", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "0", "-1", "null", "true", "../../etc/passwd",
            "%2F", "' OR 1=1 --", "\"; DROP TABLE datasets; --", "ü", "😀", new string('a', 5000), "{{uid}}", "\t\n", "\\u0000",
            "1e309", "NaN", "Infinity", "<script>", "%", "..", "a/b", "\u202e", "\ufeff",
        ];

        private readonly List<(string, string)> _headers = [];

        public FuzzedRequest Make(ApiEndpoint endpoint)
        {
            var url = endpoint.Url(name => world.UidFor(endpoint, name));
            var body = world.ValidBody(endpoint);
            byte[]? bytes = body is null ? null : Encoding.UTF8.GetBytes(body.ToJsonString());
            var contentType = body is null ? null : "application/json";
            if (endpoint.Method == "PUT" && endpoint.Template.EndsWith("/media", StringComparison.Ordinal))
            {
                (bytes, contentType) = Multipart(TestImages.Png(4, 4));
            }

            string mutation;
            switch (random.Next(bytes is null ? 3 : 5))
            {
                case 0:
                    (url, mutation) = SpoilUrl(endpoint);
                    break;
                case 1:
                    (url, mutation) = (url + SpoilQuery(), "query");
                    break;
                case 2:
                    mutation = SpoilHeaders(endpoint);
                    if (bytes is null)
                    {
                        // A header alone rarely spoils a read, so a read gets a bad query string as well.
                        url += SpoilQuery();
                        mutation += ", query";
                    }

                    if (bytes is not null && random.Next(3) == 0)
                    {
                        contentType = Pick("text/plain", "application/xml", "multipart/form-data", "application/json; charset=utf-16", "/", "application/x-www-form-urlencoded", "*/*");
                        mutation += ", content type";
                    }

                    break;
                case 3 when contentType == "application/json":
                    (bytes, mutation) = SpoilJson(body!);
                    break;
                default:
                    (bytes, mutation) = SpoilBytes(bytes!, contentType!);
                    break;
            }

            return new FuzzedRequest(endpoint.Method, url, bytes, contentType, _headers.ToList(), mutation);
        }

        private (string, string) SpoilUrl(ApiEndpoint endpoint)
        {
            if (endpoint.Parameters.Count == 0)
            {
                return (endpoint.Url(_ => string.Empty) + SpoilQuery(), "query");
            }

            var spoiled = endpoint.Parameters[random.Next(endpoint.Parameters.Count)];
            var weird = random.Next(4) == 0 ? Guid.NewGuid().ToString() : random.Next(3) == 0 ? world.UidFor(endpoint, spoiled).ToUpperInvariant() : Pick(WeirdTexts);
            return (endpoint.Url(name => name == spoiled ? weird : world.UidFor(endpoint, name)), $"uid {spoiled}");
        }

        private string SpoilQuery()
        {
            var parts = new List<string>();
            for (var n = random.Next(1, 4); n > 0; n--)
            {
                var name = Pick("limit", "cursor", "ordering", "dataset_item", "status", "offset", "page", "format", "expires", "signature", "limit[]", "%ZZ", "");
                var value = Pick(
                    "-1", "0", "1001", "abc", "1e99", "99999999999999999999", "", "bogus", "-", "--name", "name,status", "%C3%28", "%ZZ", "%FF%FE",
                    "eyJpZCI6LTF9", "bm90IGpzb24", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"created_at\":\"x\",\"uid\":{random.Next()}}}")),
                    Uri.EscapeDataString(Pick(WeirdTexts)), new string('9', 400));
                parts.Add($"{name}={value}");
            }

            return "?" + string.Join('&', parts);
        }

        private string SpoilHeaders(ApiEndpoint endpoint)
        {
            switch (random.Next(5))
            {
                case 0:
                    _headers.Add(("X-Avala-Api-Key", Pick(string.Empty, "avk_", "avk_" + new string('x', 300), world.ApiKey.ToUpperInvariant(), world.ApiKey[..^1], world.ApiKey + " ", "Bearer " + world.ApiKey)));
                    return "api key";
                case 1 when endpoint.Method == "POST":
                    _headers.Add(("Idempotency-Key", Pick(string.Empty, new string('k', 300), "key with spaces", "fuzz-key-1", "fuzz-key-2", "ключ", "a\tb")));
                    return "idempotency key";
                case 2:
                    _headers.Add(("Range", Pick("bytes=0-0", "bytes=-1", "bytes=5-1", "bytes=99999999-", "bytes=abc", "lines=1-2", "bytes=0-1,3-4,1-2")));
                    return "range";
                case 3:
                    _headers.Add(("Accept", Pick("text/html", "application/xml", "*/*;q=abc", "garbage")));
                    return "accept";
                default:
                    _headers.Add(("Content-Encoding", Pick("gzip", "br", "identity", "x-unknown")));
                    return "content encoding";
            }
        }

        private (byte[], string) SpoilJson(JsonNode body)
        {
            var copy = body.DeepClone();
            var mutations = new List<string>();
            for (var n = random.Next(1, 4); n > 0; n--)
            {
                var nodes = Walk(copy).ToList();
                if (nodes.Count == 0)
                {
                    ((JsonObject)copy)[Pick("name", "reason", "items", "x")] = WeirdValue();
                    mutations.Add("added a field");
                    continue;
                }

                var (parent, key) = nodes[random.Next(nodes.Count)];
                switch (random.Next(4))
                {
                    case 0 when parent is JsonObject o:
                        o.Remove((string)key);
                        mutations.Add($"removed {key}");
                        break;
                    case 1 when parent is JsonObject o:
                        o[$"extra_{random.Next(100)}"] = WeirdValue();
                        mutations.Add("added a field");
                        break;
                    default:
                        var value = WeirdValue();
                        if (parent is JsonObject obj)
                        {
                            obj[(string)key] = value;
                        }
                        else if (parent is JsonArray array)
                        {
                            array[(int)key] = value;
                        }

                        mutations.Add($"replaced {key}");
                        break;
                }
            }

            var text = copy.ToJsonString();
            if (random.Next(6) == 0)
            {
                // Numbers past double's range, or a second copy of a key: JSON that only a text edit makes.
                text = random.Next(2) == 0 ? text.Replace(":1", ":1e400", StringComparison.Ordinal) : text.Replace("{\"", "{\"name\":1,\"", StringComparison.Ordinal);
                mutations.Add("text edit");
            }

            return (Encoding.UTF8.GetBytes(text), "json: " + string.Join(", ", mutations));
        }

        private (byte[], string) SpoilBytes(byte[] bytes, string contentType)
        {
            switch (random.Next(6))
            {
                case 0:
                    return (bytes[..random.Next(bytes.Length)], "cut short");
                case 1:
                    var spoiled = (byte[])bytes.Clone();
                    for (var n = random.Next(1, 6); n > 0; n--)
                    {
                        spoiled[random.Next(spoiled.Length)] = (byte)random.Next(256);
                    }

                    return (spoiled, "random bytes");
                case 2:
                    return ([0xEF, 0xBB, 0xBF, .. bytes], "byte order mark");
                case 3:
                    var depth = Pick(63, 64, 65, 1000, 20000);
                    return (Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth)), $"nested {depth} deep");
                case 4 when contentType.StartsWith("multipart", StringComparison.Ordinal):
                    return Pick<Func<(byte[], string)>>(
                        () => (Multipart("not an image"u8.ToArray()).Body, "not an image"),
                        () => (Multipart([]).Body, "empty file"),
                        () => (Multipart(TestImages.Png(4, 4)[..20]).Body, "truncated image"))();
                default:
                    return ([0xC3, 0x28, 0xFF, 0xFE, .. bytes], "invalid UTF-8");
            }
        }

        private JsonNode? WeirdValue() => random.Next(14) switch
        {
            0 => null,
            1 => JsonValue.Create(true),
            2 => JsonValue.Create(-1),
            3 => JsonValue.Create(0),
            4 => JsonValue.Create(1e308),
            5 => JsonValue.Create(long.MaxValue),
            6 => JsonValue.Create(Pick(WeirdTexts)),
            7 => new JsonArray(),
            8 => new JsonObject(),
            9 => new JsonArray(JsonValue.Create("x"), null, JsonValue.Create(1.5)),
            10 => JsonValue.Create(-0.000001),
            11 => JsonValue.Create(new string('n', 300)),
            12 => JsonValue.Create(DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)),
            _ => JsonValue.Create(Guid.NewGuid().ToString()),
        };

        /// <summary>Every (container, key or index) pair in the tree, so any value can be replaced.</summary>
        private static IEnumerable<(JsonNode Parent, object Key)> Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, value) in obj.ToList())
                    {
                        yield return (obj, key);
                        foreach (var inner in Walk(value))
                        {
                            yield return inner;
                        }
                    }

                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        yield return (array, i);
                        foreach (var inner in Walk(array[i]))
                        {
                            yield return inner;
                        }
                    }

                    break;
            }
        }

        private static (byte[] Body, string ContentType) Multipart(byte[] file)
        {
            const string boundary = "fuzzboundary";
            var head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n");
            var tail = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
            return ([.. head, .. file, .. tail], $"multipart/form-data; boundary={boundary}");
        }

        private T Pick<T>(params T[] choices) => choices[random.Next(choices.Length)];
    }
}
