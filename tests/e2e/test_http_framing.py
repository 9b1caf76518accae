"""Request smuggling shapes against the real binary (RFC 9112 framing): each case sends a
request followed on the same connection by `GET /health` with `Connection: close`, and checks
how many responses come back and their statuses. A framing the server reads differently from
the RFC shows up as a missing, extra or shifted response; a refused framing as one 400 and the
connection closed (nothing after it is read as a request)."""
import pytest

from raw_http import exchange, port_of, statuses

TAIL = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
POST = b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"
SMUGGLED = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"  # a request hidden in a body

REFUSED = [400]
ACCEPTED = [422, 200]  # the body "{}" lacks "code": 422, then the tail's /health

CASES = {
    # Transfer-Encoding whose final coding is not chunked, or an unknown coding: 400 + close.
    "te_chunked_identity": (POST + b"Transfer-Encoding: chunked, identity\r\n\r\n"
                            b"2\r\n{}\r\n0\r\n\r\n", REFUSED),
    "te_xchunked_get": (b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
                        REFUSED),
    "te_identity": (POST + b"Transfer-Encoding: identity\r\n\r\n{}", REFUSED),
    "te_identity_with_cl": (POST + b"Transfer-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}",
                            REFUSED),
    "te_gzip": (POST + b"Transfer-Encoding: gzip\r\n\r\n2\r\n{}\r\n0\r\n\r\n", REFUSED),
    "te_gzip_chunked": (POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                        REFUSED),
    "te_split_over_two_fields": (POST + b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked"
                                 b"\r\n\r\n2\r\n{}\r\n0\r\n\r\n", REFUSED),
    "te_duplicate_chunked": (POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
                             b"\r\n\r\n2\r\n{}\r\n0\r\n\r\n", REFUSED),
    "te_list_trailing_comma": (POST + b"Transfer-Encoding: chunked,\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                               REFUSED),
    "te_quoted": (POST + b'Transfer-Encoding: "chunked"\r\n\r\n2\r\n{}\r\n0\r\n\r\n', REFUSED),
    "te_space_before_colon": (POST + b"Transfer-Encoding : chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                              REFUSED),
    "te_vertical_tab": (POST + b"Transfer-Encoding:\x0bchunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                        REFUSED),
    "te_obs_fold": (POST + b"Transfer-Encoding:\r\n chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", REFUSED),
    "te_http10": (b"POST /execute HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"2\r\n{}\r\n0\r\n\r\n", REFUSED),
    # Content-Length and Transfer-Encoding together, in both orders (CL.TE, TE.CL).
    "cl_te": (POST + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
              REFUSED),
    "te_cl": (POST + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
              b"22\r\n" + SMUGGLED + b"\r\n0\r\n\r\n", REFUSED),
    # Content-Length oddities.
    "cl_twice_same": (POST + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", REFUSED),
    "cl_twice_different": (POST + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
                           REFUSED),
    "cl_list": (POST + b"Content-Length: 2, 2\r\n\r\n{}", REFUSED),
    "cl_plus_sign": (POST + b"Content-Length: +2\r\n\r\n{}", REFUSED),
    # Accepted spellings of chunked: the case and spacing RFC 9110 allows.
    "te_upper_case": (POST + b"Transfer-Encoding: CHUNKED\r\n\r\n2\r\n{}\r\n0\r\n\r\n", ACCEPTED),
    "te_tab_and_trailing_space": (POST + b"Transfer-Encoding:\tchunked  \r\n\r\n"
                                  b"2\r\n{}\r\n0\r\n\r\n", ACCEPTED),
    # Chunk-size lines.
    "chunk_leading_space": (CHUNKED + b" 2\r\n{}\r\n0\r\n\r\n", REFUSED),
    "chunk_trailing_space": (CHUNKED + b"2 \r\n{}\r\n0\r\n\r\n", REFUSED),
    "chunk_0x_prefix": (CHUNKED + b"0x2\r\n{}\r\n0\r\n\r\n", REFUSED),
    "chunk_negative": (CHUNKED + b"-2\r\n{}\r\n0\r\n\r\n", REFUSED),
    "chunk_size_overflow": (CHUNKED + b"10000000000000002\r\n{}\r\n0\r\n\r\n", REFUSED),
    "chunk_leading_zeros": (CHUNKED + b"0000000000000000000002\r\n{}\r\n0\r\n\r\n", ACCEPTED),
    "chunk_extension": (CHUNKED + b"2;name=value\r\n{}\r\n0;x\r\n\r\n", ACCEPTED),
    "chunk_extension_with_bws": (CHUNKED + b"2 ;name=value\r\n{}\r\n0\r\n\r\n", ACCEPTED),
    "chunk_data_longer_than_size": (CHUNKED + b"1\r\n{}\r\n0\r\n\r\n", REFUSED),
    "chunk_bare_lf": (CHUNKED + b"2\n{}\n0\n\n", REFUSED),
    "chunk_missing_final_crlf": (CHUNKED + b"2\r\n{}\r\n0\r\n", REFUSED),
    "chunk_trailer_fields": (CHUNKED + b"2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n", ACCEPTED),
    # Head syntax: obs-fold, bare LF, NUL, whitespace before the first field.
    "obs_fold_other_field": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", REFUSED),
    "bare_lf_head": (b"GET /health HTTP/1.1\nHost: x\n\n", REFUSED),
    "nul_in_value": (b"GET /health HTTP/1.1\r\nHost: x\x00y\r\n\r\n", REFUSED),
    "space_before_first_field": (b"GET /health HTTP/1.1\r\n Host: x\r\n\r\n", REFUSED),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_framing_shape(server, name):
    raw, expected = CASES[name]
    responses, closed = exchange(port_of(server), raw + TAIL)
    assert statuses(responses) == expected, responses
    assert closed
    if expected == REFUSED:
        assert responses[0][1].get("connection") == "close"
        assert b"Invalid HTTP request" in responses[0][2]


def test_pipelined_requests_each_get_one_response(server):
    good = POST + b"Content-Length: 2\r\n\r\n{}"
    chunked = CHUNKED + b"1\r\n{\r\n1\r\n}\r\n0\r\n\r\n"
    responses, closed = exchange(port_of(server), good + chunked + good + TAIL)
    assert statuses(responses) == [422, 422, 422, 200]
    assert closed


def test_smuggled_request_in_a_refused_body_is_never_answered(server):
    # TE.CL: a front end using Content-Length would forward 4 bytes; we refuse the message and
    # close, so the hidden /health (and the tail) get no answer.
    raw = (POST + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
           b"22\r\n" + SMUGGLED + b"\r\n0\r\n\r\n")
    responses, closed = exchange(port_of(server), raw + SMUGGLED + TAIL)
    assert statuses(responses) == [400]
    assert closed


def test_long_target_gets_414_and_long_headers_431(server):
    port = port_of(server)
    long_target = b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    responses, closed = exchange(port, long_target)
    assert statuses(responses) == [414] and closed
    assert responses[0][2] == b'{"detail":"Request target too long"}'
    long_field = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    responses, closed = exchange(port, long_field)
    assert statuses(responses) == [431] and closed
    # A target within the limit (8 KiB request line) is routed as usual.
    fits = b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    responses, closed = exchange(port, fits)
    assert statuses(responses) == [404]
