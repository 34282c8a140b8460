/*
 * udp-echo: the floor of the socket path of an SNMP agent that sleeps while
 * it waits.
 *
 * It serves one UDP socket on 127.0.0.1 with the same system calls as the
 * project's simulator (controller/simulator): a blocking recvmmsg that
 * returns as soon as one datagram is there (MSG_WAITFORONE), up to BATCH
 * datagrams at a time, and one sendmmsg for their answers. It does no SNMP
 * work: each SNMPv2c GETBULK (PDU tag 0xa5) is sent back as it came with its
 * PDU tag changed to Response (0xa2), which a load generator accepts as an
 * answer holding the request's one varbind. Anything else is dropped.
 *
 * What it costs per request is what any server pays to receive, wake up,
 * and send over loopback; `make bench-peers` sets the simulator's CPU per
 * request beside it (tools/ngic-benchpeers).
 *
 * Usage: udp-echo [PORT]   (PORT 0 or absent: any free port)
 * It prints the address it listens on, "127.0.0.1:PORT", as its first line
 * on standard output once it is ready, and runs until it is killed.
 *
 * Build: cc -O2 -o udp-echo udp-echo.c   (Linux: recvmmsg and sendmmsg)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum {
	BATCH = 64,          /* datagrams a system call, the simulator's default */
	MAX_DATAGRAM = 65536, /* a whole UDP datagram */
	READ_BUFFER = 1 << 20 /* SO_RCVBUF, as the simulator asks for */
};

/* SNMP PDU tags (context-specific, constructed). */
enum { PDU_RESPONSE = 0xa2, PDU_GETBULK = 0xa5 };

static unsigned char bufs[BATCH][MAX_DATAGRAM];
static struct sockaddr_in peers[BATCH];
static struct iovec iovs[BATCH];
static struct mmsghdr in[BATCH];  /* what recvmmsg fills */
static struct mmsghdr out[BATCH]; /* the answers, in the order received */

/*
 * skip_header reads the BER tag and length at b[*p] (within len bytes) and
 * leaves *p at the first content byte. It returns the content's length, or
 * -1 when the header is cut short or its length runs past the datagram.
 */
static long skip_header(const unsigned char *b, long len, long *p)
{
	long at = *p + 1; /* past the one-byte tag */
	if (at >= len)
		return -1;
	long n = b[at++];
	if (n & 0x80) { /* long form: the low bits count the length bytes */
		int k = n & 0x7f;
		if (k == 0 || k > 3 || at + k > len)
			return -1;
		for (n = 0; k > 0; k--)
			n = n << 8 | b[at++];
	}
	if (n > len - at)
		return -1;
	*p = at;
	return n;
}

/*
 * pdu_tag_at returns the offset of the PDU tag of an SNMP message:
 * SEQUENCE { version INTEGER, community OCTET STRING, PDU }. It returns -1
 * when the message is not shaped so.
 */
static long pdu_tag_at(const unsigned char *b, long len)
{
	long p = 0, n;
	if (len < 2 || b[0] != 0x30 || skip_header(b, len, &p) < 0)
		return -1; /* the message SEQUENCE: p at its content */
	if (p >= len || b[p] != 0x02 || (n = skip_header(b, len, &p)) < 0)
		return -1; /* version */
	p += n;
	if (p >= len || b[p] != 0x04 || (n = skip_header(b, len, &p)) < 0)
		return -1; /* community */
	p += n;
	return p < len ? p : -1;
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 0;
	if (port < 0 || port > 65535) {
		fprintf(stderr, "udp-echo: port %s outside 0..65535\n", argv[1]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udp-echo: socket");
		return 1;
	}
	int rcvbuf = READ_BUFFER; /* fewer drops with many requests in flight */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t salen = sizeof sa;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
		perror("udp-echo: bind 127.0.0.1");
		return 1;
	}
	printf("127.0.0.1:%d\n", ntohs(sa.sin_port));
	fflush(stdout);

	for (int i = 0; i < BATCH; i++) {
		in[i].msg_hdr.msg_iov = &iovs[i];
		in[i].msg_hdr.msg_iovlen = 1;
		in[i].msg_hdr.msg_name = &peers[i];
	}
	int used = BATCH; /* entries the last recvmmsg changed */
	for (;;) {
		/* The kernel rewrites the lengths it fills: set them back. */
		for (int i = 0; i < used; i++) {
			iovs[i].iov_base = bufs[i];
			iovs[i].iov_len = MAX_DATAGRAM;
			in[i].msg_hdr.msg_namelen = sizeof peers[i];
			in[i].msg_hdr.msg_flags = 0;
		}
		/* Sleeps until one datagram is there, then takes what is queued. */
		int n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("udp-echo: recvmmsg");
			return 1;
		}
		used = n;
		int k = 0;
		for (int i = 0; i < n; i++) {
			long len = in[i].msg_len;
			long at = pdu_tag_at(bufs[i], len);
			if (at < 0 || bufs[i][at] != PDU_GETBULK)
				continue; /* not a GETBULK: no answer */
			bufs[i][at] = PDU_RESPONSE;
			iovs[i].iov_len = len;
			out[k].msg_hdr = in[i].msg_hdr; /* the same buffer, back to its sender */
			k++;
		}
		for (int sent = 0; sent < k;) {
			int m = sendmmsg(fd, out + sent, k - sent, 0);
			if (m < 0) {
				if (errno == EINTR)
					continue;
				break; /* a lost answer is a timeout to the client, as on a network */
			}
			sent += m;
		}
	}
}
