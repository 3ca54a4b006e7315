// The part of the Next.js app's auth.ts that the README's section "A Go API
// beside your Next.js app" shows: the object passed to NextAuth(). The tests
// run it in the real Auth.js (testdata/authjs) and check that the README
// holds the lines between the markers verbatim.
export default {
  // README:begin
  callbacks: {
    jwt({ token, user }) {
      if (user) {
        // At sign-in: copy what the Go API reads into the token.
        token.id = user.id
        token.role = user.role
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
