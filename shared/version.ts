/** The sipedge release, shown in `/health`, `User-Agent` and `Server` headers. */
export const VERSION = '0.1.0';
