// Package natsurl is a placeholder removed once the Loyalty service lands.
package natsurl
