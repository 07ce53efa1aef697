"""Pure business rules of the box office: no Qt, SQL, HTTP or PDF code lives here."""
