/*
 * agent_loop.c - an agent loop with a local tool over one warm WebSocket.
 *
 * The model asks for a tool (a function call); we run it here and answer with a
 * function_call_output item. Each turn sends only the new items: the session chains them to the
 * previous response with previous_response_id, so the server continues from its cache.
 *
 * Build:  cc agent_loop.c $(pkg-config --cflags --libs responsesws) -o agent_loop
 * Run:    ./agent_loop [BASE_URL] [TURNS]
 *         with no OPENAI_API_KEY, point BASE_URL at a local simulator: rws sim --port 8080
 *         then ./agent_loop http://127.0.0.1:8080/v1
 */
#include <responses_ws.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds "key":"value" in a JSON object and copies the (unescaped-enough) value. Good enough for
 * the ids and names of this example; a real program would use its JSON library. */
static int json_string_field(rws_str json, const char *key, char *out, size_t out_len) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *end = json.ptr + json.len;
    for (const char *p = json.ptr; p + strlen(pattern) < end; p++) {
        if (memcmp(p, pattern, strlen(pattern)) != 0) continue;
        p += strlen(pattern);
        size_t n = 0;
        while (p < end && *p != '"' && n + 1 < out_len) {
            if (*p == '\\' && p + 1 < end) p++;
            out[n++] = *p++;
        }
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* The local tool: pretend to read a file. */
static void run_tool(const char *name, const char *arguments, char *out, size_t out_len) {
    snprintf(out, out_len, "{\\\"tool\\\":\\\"%s\\\",\\\"ok\\\":true,\\\"lines\\\":42,\\\"args_bytes\\\":%zu}",
             name, strlen(arguments));
}

int main(int argc, char **argv) {
    const char *base_url = argc > 1 ? argv[1] : getenv("OPENAI_BASE_URL");
    int max_turns = argc > 2 ? atoi(argv[2]) : 6;

    rws_client_options options;
    rws_client_options_init(&options);
    options.base_url = base_url; /* NULL: $OPENAI_BASE_URL or api.openai.com */
    if (!getenv("OPENAI_API_KEY")) options.api_key = "sk-local-simulator";

    rws_client *client = NULL;
    int rc = rws_client_new(&options, &client);
    if (rc != RWS_OK) {
        fprintf(stderr, "client: %s: %s\n", rws_strerror(rc), rws_last_error());
        return 1;
    }

    rws_session_options session_options;
    rws_session_options_init(&session_options);
    session_options.defaults_json =
        "{\"model\":\"gpt-5.6\",\"store\":false,"
        "\"tools\":[{\"type\":\"function\",\"name\":\"read_file\",\"description\":\"Read a file\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}}}}]}";
    rws_session *session = NULL;
    rc = rws_session_new(client, &session_options, &session);
    if (rc != RWS_OK) {
        fprintf(stderr, "session: %s: %s\n", rws_strerror(rc), rws_last_error());
        rws_client_free(client);
        return 1;
    }

    char request[4096];
    snprintf(request, sizeof request, "{\"input\":\"Summarise README.md for me.\"}");
    int exit_code = 0;
    for (int turn_no = 1; turn_no <= max_turns; turn_no++) {
        rws_turn *turn = NULL;
        rc = rws_turn_start(session, request, 0, NULL /* pull mode */, &turn);
        if (rc != RWS_OK) {
            fprintf(stderr, "turn %d: %s: %s\n", turn_no, rws_strerror(rc), rws_last_error());
            exit_code = 1;
            break;
        }
        char call_id[128] = "", name[128] = "", arguments[1024] = "";
        const rws_event *event;
        printf("turn %d: ", turn_no);
        while ((rc = rws_turn_next_event(turn, -1, &event)) == RWS_OK) {
            if (event->type == RWS_EVENT_OUTPUT_TEXT_DELTA) {
                fwrite(event->delta.ptr, 1, event->delta.len, stdout);
            } else if (event->type == RWS_EVENT_OUTPUT_ITEM_DONE &&
                       json_string_field(event->json, "call_id", call_id, sizeof call_id)) {
                json_string_field(event->json, "name", name, sizeof name);
                json_string_field(event->json, "arguments", arguments, sizeof arguments);
            }
        }
        rws_turn_result result;
        rws_turn_get_result(turn, &result, sizeof result);
        if (result.status != RWS_OK) {
            fprintf(stderr, "\nturn %d failed: %s: %.*s\n", turn_no, rws_strerror(result.status),
                    (int)result.error_message.len, result.error_message.ptr);
            rws_turn_free(turn);
            exit_code = 1;
            break;
        }
        printf("%s[%.*s, %lld in / %lld out tokens, %.2f ms]\n", call_id[0] ? "" : " ",
               (int)result.response_id.len, result.response_id.ptr, (long long)result.input_tokens,
               (long long)result.output_tokens, result.elapsed_us / 1000.0);
        rws_turn_free(turn);

        if (call_id[0]) {
            char output[512];
            run_tool(name, arguments, output, sizeof output);
            printf("  tool %s(%s) -> ran locally\n", name, arguments);
            snprintf(request, sizeof request,
                     "{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"%s\",\"output\":\"%s\"}]}",
                     call_id, output);
        } else {
            snprintf(request, sizeof request, "{\"input\":\"Thanks. Now check the tests, turn %d.\"}", turn_no);
        }
    }

    rws_stats stats;
    rws_client_stats(client, &stats, sizeof stats);
    printf("turns=%llu ok=%llu incremental=%llu connects=%llu bytes_sent=%llu bytes_received=%llu\n",
           (unsigned long long)stats.turns, (unsigned long long)stats.turns_ok,
           (unsigned long long)stats.incremental_sends, (unsigned long long)stats.connects,
           (unsigned long long)stats.bytes_sent, (unsigned long long)stats.bytes_received);
    rws_session_free(session);
    rws_client_free(client);
    return exit_code;
}
