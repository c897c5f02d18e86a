"""gunicorn's settings for ClickLedger (read by default from the working directory).

Command-line flags (bind, workers, access log) still take precedence over this file.
"""

# gunicorn's largest finite request line (method, URI with its query string, protocol), up from
# its 4,094-byte default: partners send every postback parameter in the query string, and a
# postback that reaches Django is answered in JSON and logged, whatever it holds. Past this
# gunicorn itself answers 414 and nothing reaches the application. (0 would mean no limit, and a
# request line as large as a client cares to send held in memory.)
limit_request_line = 8190
