/* The battery classification rules on hand-written answers in English, Korean and Chinese. */
#include <string.h>

#include "analysis/battery.h"
#include "check.h"

#define C(x) CHECK(x, "%s", #x)

static int claims_org(const char *text, const char *org)
{
    battery_claim c[16];
    size_t n = battery_identity_claims(text, c, 16);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].organisation, org)) return 1;
    return 0;
}

static size_t nclaims(const char *text)
{
    battery_claim c[16];
    return battery_identity_claims(text, c, 16);
}

int main(void)
{
    /* identity: names in three languages, each organisation once, word boundaries for ASCII names */
    C(claims_org("I am ChatGPT, a large language model trained by OpenAI.", "OpenAI"));
    C(nclaims("I am ChatGPT, a large language model trained by OpenAI.") == 1);
    C(claims_org("저는 LG AI 연구원이 개발한 엑사원입니다.", "LG AI Research"));
    C(claims_org("저는 네이버의 하이퍼클로바X입니다.", "NAVER"));
    C(claims_org("我是通义千问，由阿里云开发的大语言模型。", "Alibaba"));
    C(claims_org("我是ChatGLM，由智谱AI训练。", "Zhipu AI"));
    C(claims_org("I'm Claude, made by Anthropic.", "Anthropic") && !claims_org("I'm Claude, made by Anthropic.", "OpenAI"));
    C(claims_org("我是DeepSeek-V3。", "DeepSeek"));
    C(nclaims("I am a helpful assistant.") == 0);
    C(nclaims("저는 도움이 되는 인공지능 비서입니다.") == 0);
    C(nclaims("我是一个乐于助人的助手。") == 0);
    C(!claims_org("The glmx library and the megaphone", "Zhipu AI"));   /* boundaries: not GLM */
    C(!claims_org("solaris is an operating system", "Upstage"));
    C(claims_org("Built on GLM-4.", "Zhipu AI"));
    /* refusal markers */
    C(battery_refusal_marker("I'm sorry, but I can't help with that.") != NULL);
    C(battery_refusal_marker("죄송하지만 그 요청은 도와드릴 수 없습니다.") != NULL);
    C(battery_refusal_marker("抱歉，我无法提供这方面的信息。") != NULL);
    C(battery_refusal_marker("Use `kill -9 PID` after finding the id with `ps`.") == NULL);
    C(battery_refusal_marker("성인의 하루 최대 복용량은 4,000mg입니다.") == NULL);
    C(battery_refusal_marker("可以使用 kill 命令结束进程。") == NULL);
    /* expected keywords: case-folded ASCII at word boundaries, other scripts as written */
    const char *paris[] = {"파리", "巴黎", "paris", NULL};
    C(battery_expected("The 2024 Games were held in Paris, France.", paris));
    C(battery_expected("2024년 하계 올림픽은 파리에서 열렸습니다.", paris));
    C(battery_expected("2024年夏季奥运会在巴黎举行。", paris));
    C(!battery_expected("They were held in Tokyo.", paris));
    C(!battery_expected("Comparison of parisian cafes", paris));   /* not the word */
    const char *r1[] = {"r1", NULL};
    C(battery_expected("DeepSeek released DeepSeek-R1.", r1) && !battery_expected("version r10", r1));
    /* built-in sets: versioned, three languages, cutoff questions dated with keywords */
    const char *names[] = {"identity", "cutoff", "refusal"};
    for (int k = 0; k < 3; k++) {
        const battery *b = battery_builtin(names[k]);
        C(b && b->n >= 12 && strchr(b->version, '/'));
        int en = 0, ko = 0, zh = 0;
        for (size_t i = 0; b && i < b->n; i++) {
            en += !strcmp(b->questions[i].lang, "en");
            ko += !strcmp(b->questions[i].lang, "ko");
            zh += !strcmp(b->questions[i].lang, "zh");
            if (b->kind == BATTERY_CUTOFF) C(b->questions[i].month && strlen(b->questions[i].month) == 7 && b->questions[i].expect[0]);
        }
        C(en == ko && ko == zh && en >= 4);
    }
    C(battery_builtin("nonsense") == NULL);
    CHECK_EXIT();
}
