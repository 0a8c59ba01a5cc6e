/* Little-endian fields of the records the gdbm cache stores (the login,
 * remember and delivery records, flowtotp(5)): one encoding, so every
 * record type reads its fields the same way on every host. */
#ifndef FLOWTOTP_LE_H
#define FLOWTOTP_LE_H

#include <stddef.h>
#include <stdint.h>

#define FT_BITS_PER_BYTE 8U

/* Store the n low bytes of v at p, least significant first (n <= 8). */
static inline void
ft_put_le(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (FT_BITS_PER_BYTE * i));
}

/* The n bytes at p, least significant first (n <= 8). */
static inline uint64_t
ft_get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (FT_BITS_PER_BYTE * i);
	return v;
}

#endif
