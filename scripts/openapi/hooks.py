"""Schemathesis hooks for scripts/openapi.sh (loaded through SCHEMATHESIS_HOOKS).

The gateway's HTML pages (error pages for browsers, form_post's page) are documented as
strings with a pattern; without a deserializer schemathesis would skip their bodies.
"""

import schemathesis


@schemathesis.deserializer("text/html")
def html_as_text(ctx, response):
    return response.content.decode("utf-8")
