// The couriers `make up` runs are the roster's (@ftgo/platform's COURIERS): this name stays for the scripts
// and tests that import it from here.
export { COURIERS as MAKE_UP_COURIERS, type CourierTerms } from "@ftgo/platform";
