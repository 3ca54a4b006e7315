// The jwt callback that the repository README ("Revocation") tells a Next.js
// app to put in auth.ts. harness.mjs runs it through the real @auth/core
// ("callbacks": "sid"), and a Go test checks that the README shows the lines
// between the markers verbatim, so the documented and the tested callback
// cannot drift apart.
export const callbacks = {
  // README:begin
  jwt({ token, user }) {
    if (user) {
      // Sign-in: the session id and sign-in time edgeauth revokes by.
      token.sid = crypto.randomUUID()
      token.auth_time = Math.floor(Date.now() / 1000)
    }
    return token
  },
  // README:end
}
