// The callbacks of the repository README's section "A Go API beside your
// Next.js app": the object that auth.ts passes to NextAuth(). harness.mjs runs
// them through the real @auth/core ("callbacks": "article"), and a Go test
// (examples/nextjs-api) checks that the README shows the lines between the
// markers verbatim.
export default {
  // README:begin
  callbacks: {
    jwt({ token, user }) {
      if (user) {
        // Sign-in: what the Go API reads (Auth.js sets sub to user.id)…
        token.id = user.id
        token.role = user.role
        // …and the session id and sign-in time edgeauth revokes by.
        token.sid = crypto.randomUUID()
        token.auth_time = Math.floor(Date.now() / 1000)
      }
      return token
    },
    session({ session, token }) {
      session.user.id = token.id
      session.user.role = token.role
      return session
    },
  },
  // README:end
}
