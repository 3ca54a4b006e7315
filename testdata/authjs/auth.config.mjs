// The callbacks of a Next.js app's auth.ts (the object passed to NextAuth())
// that put the user's id and role in the token: the seed article's, and those
// of the README's section "A Go API beside your Next.js app". Tests run them
// in the real Auth.js (the "config" and "callbacks":"article" options of
// harness.mjs) and check that the README holds the lines between the markers
// verbatim (examples/nextjs-api).
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
