"""The web dashboard: HTML shells served by ``pyforge serve``; the pages' script calls the
same ``/api/v1`` API as every other client, signed in with the kit's browser session."""
