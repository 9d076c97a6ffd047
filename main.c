/* main.c — placeholder until the board lands. */
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "blkemu: not yet\n");
    return 1;
}
