"""The web as glmcode's tools reach it: reading a page (`web_fetch`) and searching (`web_search`).

The modules, each imported by name where it is used:

- `errors`: the one exception the tools turn into a result the model reads.
- `addresses`: which addresses a fetch may connect to, checked after DNS resolution.
- `transport`: an httpx client whose every connection passes that check.
- `fetch`: one GET with redirects, timeouts and a size cap.
- `convert`: a page's bytes as text: HTML to Markdown, text and JSON as they are.
- `untrusted`: how page text is marked before it reaches the model.
- `ask`: a cheap model answering a question from a page.
- `search`: the GLM platform's Web Search API on the user's provider.
- `access`: what one session holds: the checks from its permission policy, its cache, its counts.
"""
